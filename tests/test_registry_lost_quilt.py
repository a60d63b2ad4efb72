"""Reading a local registry that lost its hidden ``.quilt`` folder, or that is not there at all.

``mkdir COPY; cp -r REG/* COPY/`` copies ``objects/`` but not ``.quilt`` (every manifest and version
pointer). Fetch, lineage and ``packages list`` read that as an empty registry (exit 4, "it is empty";
"0 version(s)", exit 0) while verify, gc and push called it damaged (exit 3): now every one says so.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cli_support import cli, one_line

from fashion_lib import registry
from fashion_lib.errors import IntegrityError, PackageNotFound
from fashion_lib.registry import lock
from fashion_lib.registry.local import PUSH_LOCK

NAME = "fashion-mnist/data"
LOST = "holds 2 object(s) but no manifest at all, so its hidden .quilt folder (manifests and version pointers)"
WAY_OUT = "restore .quilt from the original (copy a registry with 'cp -a REG COPY'"


@pytest.fixture
def star(tmp_path: Path, sources: dict[str, Path]) -> Path:
    """A registry holding one version, copied with ``cp -r REG/* COPY/`` (the glob leaves .quilt out)."""
    reg = tmp_path / "registry"
    registry.push(NAME, sources, registry=str(reg), message="good")
    copy = tmp_path / "star"
    copy.mkdir()
    subprocess.run(f"cp -r '{reg}'/* '{copy}/'", shell=True, check=True)
    assert (copy / "objects").is_dir() and not (copy / ".quilt").exists()
    return copy


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


def test_a_first_push_storing_its_objects_is_not_damage(star: Path, tmp_path: Path) -> None:
    """Objects and no manifest while a push holds the push lock: that push's, not a lost .quilt."""
    with lock.exclusive(star / PUSH_LOCK):
        fetched = cli("model", "fetch", "--dest", str(tmp_path / "m"), "--registry", str(star))
        assert fetched.returncode == PackageNotFound.exit_code and "(it is empty)" in one_line(fetched)
        listed = cli("packages", "list", "--json", "--registry", str(star))
        assert listed.returncode == 0 and json.loads(listed.stdout)["versions"] == [], listed.stderr


def test_a_registry_with_no_objects_is_still_empty(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = cli("model", "fetch", "--dest", str(tmp_path / "m"), "--registry", str(tmp_path / "empty"))
    assert done.returncode == PackageNotFound.exit_code and "(it is empty)" in one_line(done)
    listed = cli("packages", "list", "--registry", str(tmp_path / "empty"))
    assert listed.returncode == 0 and ": 0 version(s)" in listed.stdout
