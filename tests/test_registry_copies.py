"""Registries copied, or pointed at, the wrong way: each is one clear line, and nothing is lost.

``cp -r REG/* COPY/`` leaves the hidden ``.quilt`` folder (every manifest and version pointer)
behind but copies ``objects/``; a push into such a copy would become its only manifest, and
``packages gc --delete`` would then remove every file of the lost versions.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cli_support import cli, one_line

from fashion_lib import registry
from fashion_lib.errors import IntegrityError, RegistryError

NAME = "fashion-mnist/data"
WAY_OUT = "restore .quilt from the original (copy a registry with 'cp -a REG COPY'"


@pytest.fixture
def sources(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "train.csv").write_bytes(b"label,pixel1\n1,0\n2,255\n")
    (folder / "test.csv").write_bytes(b"label,pixel1\n3,7\n")
    return {"train.csv": folder / "train.csv", "test.csv": folder / "test.csv"}


@pytest.fixture
def reg(tmp_path: Path, sources: dict[str, Path]) -> Path:
    """A registry holding one version."""
    folder = tmp_path / "registry"
    registry.push(NAME, sources, registry=str(folder), message="good")
    return folder


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_copy_that_lost_its_quilt_folder_is_damage_to_verify_gc_and_push(reg, sources, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    subprocess.run(f"cp -r '{reg}'/* '{copy}/'", shell=True, check=True)  # the glob leaves .quilt out
    assert (copy / "objects").is_dir() and not (copy / ".quilt").exists()
    before = tree(copy)

    lines = {}
    for command in (["verify"], ["gc", "--delete", "--grace", "0"]):
        done = cli("packages", *command, "--registry", str(copy))
        assert done.returncode == IntegrityError.exit_code, (command, done.stdout, done.stderr)
        lines[command[0]] = one_line(done)
    as_json = cli("packages", "verify", "--json", "--registry", str(copy))
    assert as_json.returncode == IntegrityError.exit_code
    assert json.loads(as_json.stdout)["problems"] == [lines["verify"].removeprefix("fashion: damaged: ")]
    with pytest.raises(IntegrityError) as pushed:
        registry.push(NAME, sources, registry=str(copy))
    lines["push"] = str(pushed.value)

    assert "nothing was published" in lines["push"] and "nothing was removed" in lines["gc"]
    for line in lines.values():
        assert f"{copy.name} holds 2 object(s) but no manifest at all" in line, line
        assert WAY_OUT in line and "remove its objects folder" in line, line
        assert line.split(": restore", 1)[1] == lines["push"].split(": restore", 1)[1]  # one answer
    assert {p.relative_to(copy).parts[0] for p in copy.iterdir()} <= {"objects", ".fashion.lock"}
    assert {k: v for k, v in tree(copy).items() if k != ".fashion.lock"} == before  # nothing published

    subprocess.run(["cp", "-r", f"{reg}/.", f"{copy}/"], check=True)  # the way out: .quilt restored
    registry.push(NAME, sources, registry=str(copy), message="in the copy")
    assert len(registry.list_versions(registry=str(copy))) == 2
    done = cli("packages", "verify", "--registry", str(copy))
    assert done.returncode == 0 and "no problems" in done.stdout, done.stderr


def test_a_first_push_killed_after_storing_objects_has_a_way_out(reg, sources, tmp_path):
    """What a kill -9 of the very first push leaves: objects, no .quilt; the line says what to do."""
    killed = tmp_path / "killed"
    killed.mkdir()
    shutil.copytree(reg / "objects", killed / "objects")
    with pytest.raises(IntegrityError, match="never held a version .* remove its objects folder"):
        registry.push(NAME, sources, registry=str(killed))
    shutil.rmtree(killed / "objects")  # the way out the line gives
    registry.push(NAME, sources, registry=str(killed))
    assert cli("packages", "verify", "--registry", str(killed)).returncode == 0


@pytest.mark.parametrize("inside", [".quilt", "objects", ".quilt/named_packages/fashion-mnist"])
def test_the_inside_of_a_registry_is_refused_naming_the_registry(reg, sources, inside):
    """Pointed at by mistake, it read as an empty registry ("0 version(s)", exit 0)."""
    before = tree(reg)
    for command in (["list"], ["verify"], ["gc"]):
        done = cli("packages", *command, "--registry", str(reg / inside))
        assert done.returncode == 2, (command, done.stdout)
        line = one_line(done)
        assert f"{inside} is inside a registry" in line and f"give the registry folder itself, {reg}," in line
    by_env = cli("packages", "list", FASHION_REGISTRY=str(reg / inside))
    assert by_env.returncode == 2 and "FASHION_REGISTRY" in one_line(by_env)
    with pytest.raises(RegistryError, match="is inside a registry"):
        registry.push(NAME, sources, registry=str(reg / inside))
    assert tree(reg) == before
