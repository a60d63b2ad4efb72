"""A ``latest`` pointer that is there but holds no top hash is damage (exit 3, one line naming it), never
silently passed over for the newest timestamp pointer; a missing ``latest`` (a first push killed before
writing it) still means the newest version."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import cli, one_line

from fashion_lib import registry
from fashion_lib.errors import IntegrityError
from fashion_lib.settings import TEST_CSV, TRAIN_CSV

NAME = "fashion-mnist/data"


@pytest.fixture
def reg(tmp_path: Path) -> Path:
    return tmp_path / "registry"


def push(reg: Path, tmp_path: Path, label: str) -> str:
    src = tmp_path / f"src-{label}"
    src.mkdir(exist_ok=True)
    (src / "train.csv").write_bytes(f"label,pixel1\n{label},0\n".encode())
    (src / "test.csv").write_bytes(b"label,pixel1\n3,7\n")
    files = {TRAIN_CSV: src / "train.csv", TEST_CSV: src / "test.csv"}
    return registry.push(NAME, files, registry=str(reg), message=label)


def fetch(reg: Path, dest: Path):
    return cli("data", "fetch", "--dest", str(dest), "--registry", str(reg), FASHION_HOME=str(dest.parent / "home"))


def test_a_garbled_latest_is_damage_named_in_one_line(reg, tmp_path):
    push(reg, tmp_path, "1")
    newest = push(reg, tmp_path, "2")
    (reg / ".quilt/named_packages" / NAME / "latest").write_bytes(b"garbage")
    done = fetch(reg, tmp_path / "out")
    assert done.returncode == IntegrityError.exit_code, done.stderr
    line = one_line(done)
    assert f".quilt/named_packages/{NAME}/latest ('garbage') do not hold a top hash" in line, line
    assert str(reg) in line and f"publish {newest[:7]} (the newest version) again" in line, line
    assert not (tmp_path / "out").exists()
    push(reg, tmp_path, "2")  # what the line says to do: the newest version, published again, repairs latest
    assert registry.open(str(reg)).pointers(NAME)["latest"] == newest
    assert fetch(reg, tmp_path / "again").returncode == 0


def test_an_emptied_latest_without_versions_is_damage(reg, tmp_path):
    push(reg, tmp_path, "1")
    for pointer in (reg / ".quilt/named_packages" / NAME).iterdir():
        pointer.write_text("" if pointer.name == "latest" else "x")
    with pytest.raises(IntegrityError, match=r"/latest \(''\) do not hold a top hash"):
        registry.resolve_top_hash(NAME, None, registry=str(reg))


def test_a_missing_latest_still_means_the_newest_version(reg, tmp_path):
    push(reg, tmp_path, "1")
    push(reg, tmp_path, "2")
    (reg / ".quilt/named_packages" / NAME / "latest").unlink()
    done = fetch(reg, tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / TRAIN_CSV).read_bytes() == b"label,pixel1\n2,0\n"


def test_a_garbled_version_pointer_does_not_block_latest(reg, tmp_path):
    push(reg, tmp_path, "1")
    latest = push(reg, tmp_path, "2")
    older = min(
        (p for p in (reg / ".quilt/named_packages" / NAME).iterdir() if p.name.isdigit()), key=lambda p: int(p.name)
    )
    older.write_text("garbage")
    assert registry.resolve_top_hash(NAME, None, registry=str(reg)) == latest
