"""A registry copied into an existing folder (``mkdir existing; cp -r reg0 existing/``) and then named by that folder
(``--registry existing``): the empty folder says that the registry one folder down is one, for ``packages list`` (a
note, exit 0) and a fetch (its not-found line, exit 4), naming the option or variable to give it with."""

from __future__ import annotations

import shutil
from pathlib import Path

from cli_support import cli, one_line

from fashion_lib import registry

MODEL = "fashion-mnist/model"


def _nested(tmp_path: Path) -> tuple[Path, Path]:
    """``existing`` (no package of its own) and ``existing/reg0``, a copy of a registry with one version."""
    (tmp_path / "clf.keras").write_bytes(b"published model bytes")
    registry.push(MODEL, {"clf.keras": tmp_path / "clf.keras"}, registry=str(tmp_path / "reg0"))
    (tmp_path / "existing").mkdir()
    shutil.copytree(tmp_path / "reg0", tmp_path / "existing" / "reg0")
    return tmp_path / "existing", tmp_path / "existing" / "reg0"


def test_listing_the_folder_around_a_registry_notes_the_registry_inside_it(tmp_path: Path) -> None:
    """Before: "0 version(s)", exit 0, and nothing else."""
    outer, inner = _nested(tmp_path)
    done = cli("packages", "list", "--registry", str(outer))
    assert done.returncode == 0 and "0 version(s)" in done.stdout, done
    note = f"note: local registry {outer} is empty; {inner} inside it is a registry: did you mean --registry {inner}?"
    assert one_line(done) == note
    assert cli("packages", "list", "--registry", str(inner)).stdout.startswith(f"local registry {inner}: 1 version(s)")


def test_a_fetch_from_the_folder_around_a_registry_names_the_registry_inside_it(tmp_path: Path) -> None:
    """Before: exit 4, "package ... is not in local registry existing (it is empty); publish it first, ..."."""
    outer, inner = _nested(tmp_path)
    done = cli("model", "fetch", "--registry", str(outer), "--dest", str(tmp_path / "out"))
    line = one_line(done)
    assert done.returncode == 4, done
    assert f"(it is empty; {inner} inside it is a registry: did you mean --registry {inner}?)" in line, line
    done = cli("model", "fetch", "--dest", str(tmp_path / "out"), FASHION_REGISTRY=str(outer))
    assert done.returncode == 4 and f"did you mean FASHION_REGISTRY={inner}?" in one_line(done), done
    assert not (tmp_path / "out").exists()


def test_an_empty_folder_with_no_registry_inside_it_reads_as_before(tmp_path: Path) -> None:
    (tmp_path / "empty" / "plain").mkdir(parents=True)
    listed = cli("packages", "list", "--registry", str(tmp_path / "empty"))
    assert listed.returncode == 0 and listed.stderr == "", listed
    done = cli("model", "fetch", "--registry", str(tmp_path / "empty"), "--dest", str(tmp_path / "out"))
    assert done.returncode == 4 and "(it is empty); publish it first" in one_line(done), done
