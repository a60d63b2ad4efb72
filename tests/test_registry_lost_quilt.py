"""Reading a local registry that lost its hidden ``.quilt`` folder, or that is not there at all.

``mkdir COPY; cp -r REG/* COPY/`` copies ``objects/`` but not ``.quilt`` (every manifest and version
pointer). Fetch, lineage and ``packages list`` read that as an empty registry (exit 4, "it is empty";
"0 version(s)", exit 0) while verify, gc and push called it damaged (exit 3): now every one says so.

A registry folder named by ``--registry`` or ``FASHION_REGISTRY`` that does not exist (a typo) is one line,
exit 4 (as a fetch from it), not "no problems"; the embedded one, not made before the first push (a fresh
clone), still lists and verifies as nothing there, exit 0.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cli_support import cli, one_line
from registry_copy_support import NAME, WAY_OUT, published, star_copy

from fashion_lib import data, registry
from fashion_lib.errors import IntegrityError, PackageNotFound
from fashion_lib.registry import lock
from fashion_lib.registry.layout import PACKAGES
from fashion_lib.registry.local import PUSH_LOCK

LOST = "holds 2 object(s) but no manifest at all, so its hidden .quilt folder (manifests and version pointers)"


@pytest.fixture
def star(tmp_path: Path, sources: dict[str, Path]) -> Path:
    """A registry holding one version, copied with ``cp -r REG/* COPY/`` (the glob leaves .quilt out)."""
    return star_copy(published(tmp_path / "registry", sources), tmp_path / "star")


def test_reading_commands_call_a_copy_without_quilt_damaged_as_verify_does(star: Path, tmp_path: Path) -> None:
    verified = cli("packages", "verify", "--registry", str(star))
    assert verified.returncode == IntegrityError.exit_code
    said = one_line(verified).removeprefix("fashion: damaged: ")
    for command in (
        ["model", "fetch", "--dest", str(tmp_path / "m")],
        ["data", "fetch", "--dest", str(tmp_path / "d")],
        ["lineage"],
        ["packages", "list"],
        ["packages", "list", "--json"],
        ["packages", "list", "--name", NAME],
    ):
        done = cli(*command, "--registry", str(star))
        line = one_line(done)
        assert done.returncode == IntegrityError.exit_code, (command, done.stdout, done.stderr)
        assert done.stdout == "" and "it is empty" not in line, (command, done.stdout, line)
        assert line.startswith(f"fashion: error: local registry {star} {LOST}"), line
        assert "no version of it can be read" in line and WAY_OUT in line, line
        assert line.split(": restore", 1)[1] == said.split(": restore", 1)[1]  # the one way out verify gives
    assert not (tmp_path / "m").exists() and not (tmp_path / "d").exists()
    assert {p.name for p in star.iterdir()} <= {"objects", ".fashion.lock"}  # reading wrote nothing


def test_the_library_says_it_too(star: Path) -> None:
    with pytest.raises(IntegrityError, match="no manifest at all"):
        registry.resolve_top_hash(NAME, None, registry=str(star))
    with pytest.raises(IntegrityError, match="no manifest at all"):
        registry.open(str(star)).resolve(NAME, "abc")


def test_not_found_lists_the_manifests_once_each_time_it_asks_about_damage(
    star: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It asks twice (before and after looking for a push in flight). Before, each asking listed the manifests
    twice: once for manifests without pointers, again for objects without manifests."""
    reg = registry.open(str(star))
    listed: list[str] = []
    real = reg.list_keys
    monkeypatch.setattr(reg, "list_keys", lambda prefix: listed.append(prefix) or real(prefix))
    assert isinstance(reg.not_found(NAME), IntegrityError)
    assert listed.count(PACKAGES) == 2, listed


def test_a_first_push_storing_its_objects_is_not_damage(star: Path, tmp_path: Path) -> None:
    """Objects and no manifest while a push holds the push lock: that push's, not a lost .quilt."""
    with lock.exclusive(star / PUSH_LOCK):
        fetched = cli("model", "fetch", "--dest", str(tmp_path / "m"), "--registry", str(star))
        assert fetched.returncode == PackageNotFound.exit_code, fetched.stderr
        assert (
            "(it holds no package, only 2 object(s) no manifest names: a first push may be storing them, or the "
            "registry was copied without its .quilt folder)" in one_line(fetched)
        )  # before: "(it is empty)"
        listed = cli("packages", "list", "--json", "--registry", str(star))
        assert listed.returncode == 0 and json.loads(listed.stdout)["versions"] == [], listed.stderr


def test_a_registry_with_no_objects_is_still_empty(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = cli("model", "fetch", "--dest", str(tmp_path / "m"), "--registry", str(tmp_path / "empty"))
    assert done.returncode == PackageNotFound.exit_code and "(it is empty)" in one_line(done)
    listed = cli("packages", "list", "--registry", str(tmp_path / "empty"))
    assert listed.returncode == 0 and ": 0 version(s)" in listed.stdout


# --- a registry folder that does not exist ----------------------------------------------------------------


def test_a_registry_named_that_does_not_exist_is_one_line_exit_4(tmp_path: Path) -> None:
    typo = tmp_path / "regsitry"
    for command in (["list"], ["list", "--json"], ["verify"], ["verify", "--json"], ["gc", "--delete"]):
        done = cli("packages", *command, "--registry", str(typo))
        line = one_line(done)
        assert done.returncode == PackageNotFound.exit_code and done.stdout == "", (command, done.stdout)
        assert line == (
            f"fashion: error: local registry {typo}: no such folder (nothing has been published there); check the "
            "path given to --registry (a registry's folder is made by its first push)"
        ), line
    by_variable = cli("packages", "verify", FASHION_REGISTRY=str(typo))
    assert by_variable.returncode == PackageNotFound.exit_code
    assert one_line(by_variable).startswith(f"fashion: error: FASHION_REGISTRY: local registry {typo}: no such folder")
    assert "check FASHION_REGISTRY" in one_line(by_variable)
    assert not typo.exists()  # reading made nothing


def test_a_missing_folder_named_by_the_option_blames_the_option_too(tmp_path: Path) -> None:
    """``--registry TYPO`` with ``FASHION_REGISTRY=TYPO`` as well: the option named it (open_registry knew). Before,
    the packages commands worked it out again from the variable and said 'check FASHION_REGISTRY'."""
    typo = tmp_path / "regsitry"
    done = cli("packages", "list", "--registry", str(typo), FASHION_REGISTRY=str(typo))
    assert done.returncode == PackageNotFound.exit_code, done.stderr
    assert one_line(done).startswith(f"fashion: error: local registry {typo}: no such folder"), one_line(done)
    assert "check the path given to --registry" in one_line(done)


def test_the_embedded_registry_not_made_yet_lists_nothing_exit_0(tmp_path: Path) -> None:
    home = tmp_path / "home"  # a fresh clone's home: no registry folder before the first push
    for command in (["list"], ["verify"], ["gc"]):
        done = cli("packages", *command, FASHION_HOME=str(home), FASHION_REGISTRY="")
        assert done.returncode == 0 and done.stderr == "", (command, done.stderr)
        assert "(no such folder: nothing has been published there): 0 " in done.stdout, done.stdout
        named = cli("packages", *command, "--registry", str(home / "registry"), FASHION_HOME=str(home))
        assert named.returncode == 0, named.stderr  # the same folder, named: the same answer
    assert not home.exists()


def test_a_data_package_missing_from_a_registry_that_does_not_exist_says_no_such_folder(tmp_path: Path) -> None:
    with pytest.raises(PackageNotFound) as info:
        data.load_data(registry=str(tmp_path / "nowhere"), name="other/pkg", bootstrap=True)
    assert "is not in local registry" in str(info.value) and "(no such folder)" in str(info.value)


def test_a_first_push_that_finishes_while_not_found_asks_is_not_called_lost(
    star: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first listing finds objects and no manifest; the push storing them writes its manifest and lets go
    of its lock before not_found asks whether one is in flight. Before: 'no manifest at all', exit 3, for a
    healthy registry; now the manifests are listed again once no push holds the lock."""
    from fashion_lib.registry import lost

    source = tmp_path / "registry" / ".quilt"  # the original's manifests and pointers: the push's last writes
    reg = registry.open(str(star))

    def push_finishes(asked: object) -> bool:
        subprocess.run(["cp", "-a", str(source), str(star)], check=True)
        return False  # no push holds the lock now: it has finished

    monkeypatch.setattr(lost, "writer_active", push_finishes)
    found = reg.not_found("other/package")
    assert isinstance(found, PackageNotFound), found


def test_a_registry_that_lost_its_version_pointers_is_damage_to_a_fetch(tmp_path: Path, sources) -> None:
    """Manifests there, .quilt/named_packages gone: verify called it damage (exit 3) while a fetch said
    'it is empty; publish it first' (exit 4)."""
    import shutil

    reg = published(tmp_path / "registry", sources)
    shutil.rmtree(reg / ".quilt" / "named_packages")
    done = cli("data", "fetch", "--dest", str(tmp_path / "d"), "--registry", str(reg))
    assert done.returncode == IntegrityError.exit_code, done.stderr
    line = one_line(done)
    assert "holds 1 manifest(s) but no version pointer, so its version pointers (.quilt/named_packages)" in line
    assert "restore them from the original (copy a registry with 'cp -a REG COPY')" in line
    assert cli("packages", "verify", "--registry", str(reg)).returncode == IntegrityError.exit_code


def test_manifests_without_pointers_beside_a_push_in_flight_are_not_damage(
    tmp_path: Path, sources, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first push writes its manifest, then its pointers: in between, a reader finds no package."""
    import shutil

    from fashion_lib.registry import lost

    reg = published(tmp_path / "registry", sources)
    shutil.rmtree(reg / ".quilt" / "named_packages")
    monkeypatch.setattr(lost, "writer_active", lambda asked: True)
    assert isinstance(registry.open(str(reg)).not_found(NAME), PackageNotFound)
