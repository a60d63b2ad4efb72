"""A registry folder keeps working wherever it goes: moved, copied, archived and restored,
and one written by fashion before schema versions (commit 36d4b36) still reads, verifies and reproduces."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from fashion_lib import registry
from fashion_lib.config import TrainConfig
from fashion_lib.errors import IntegrityError
from fashion_lib.model_package import read_lineage

NAME = "fashion-mnist/data"
FIXTURE = Path(__file__).parent / "fixtures" / "registry_36d4b36"  # written by commit 36d4b36's code
OLD_DATA = "3881307362629c1cb37b5630f82eab8f2ade422ebbe76f18ba2f9253cb52bb31"
OLD_MODEL = "3a073774c52aed5c8c3733a12556243ea2f7ec7a3fd6205934bcff22147e99ce"


@pytest.fixture
def published(tmp_path: Path) -> tuple[Path, str, bytes]:
    reg = tmp_path / "first" / "registry"
    (tmp_path / "train.csv").write_bytes(b"label,pixel1\n1,0\n2,255\n")
    top_hash = registry.push(NAME, {"train.csv": tmp_path / "train.csv"}, registry=str(reg), message="m")
    return reg, top_hash, (tmp_path / "train.csv").read_bytes()


def fetched_bytes(reg: Path, top_hash: str, dest: Path) -> bytes:
    return registry.fetch(NAME, dest, registry=str(reg), top_hash=top_hash).files["train.csv"].read_bytes()


def test_moved_registry_fetches(published, tmp_path):
    reg, top_hash, data = published
    moved = tmp_path / "elsewhere" / "reg"
    moved.parent.mkdir()
    shutil.move(reg, moved)
    assert fetched_bytes(moved, top_hash, tmp_path / "out") == data


def test_copy_reads_its_own_objects_once_the_original_is_gone(published, tmp_path):
    reg, top_hash, data = published
    copy = tmp_path / "copy"
    shutil.copytree(reg, copy)
    for obj in (copy / "objects").iterdir():  # the copy's objects, not the original's, are read
        obj.write_bytes(obj.read_bytes().replace(b"255", b"254"))
    with pytest.raises(IntegrityError):
        fetched_bytes(copy, top_hash, tmp_path / "bad")
    shutil.rmtree(copy)
    shutil.copytree(reg, copy)
    shutil.rmtree(reg)
    assert fetched_bytes(copy, top_hash, tmp_path / "out") == data


def test_archived_and_restored_registry_fetches(published, tmp_path):
    reg, top_hash, data = published
    archive = tmp_path / "reg.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(reg, arcname="registry")
    shutil.rmtree(reg)
    with tarfile.open(archive) as tar:
        # the "data" filter arrived in Python 3.11.4; Debian 12's 3.11.2 extracts our own archive without it
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(tmp_path / "restored", **safe)
    assert fetched_bytes(tmp_path / "restored" / "registry", top_hash, tmp_path / "out") == data


def test_registry_written_by_36d4b36_reads_verifies_and_lists(tmp_path):
    reg = tmp_path / "old"
    shutil.copytree(FIXTURE, reg)  # also moved: its manifests name /tmp/wt8gen/reg, which is gone
    got = registry.fetch(NAME, tmp_path / "out", registry=str(reg))
    assert (
        got.top_hash == OLD_DATA
        and got.meta["rows"] == {"fashion-mnist_train.csv": 2, "fashion-mnist_test.csv": 1}
        and got.message == "old data"
    )
    assert got.files["fashion-mnist_train.csv"].read_bytes() == b"label,pixel1\n1,0\n2,255\n"
    assert registry.open(str(reg)).manifest(NAME, OLD_DATA).schema == 0
    report = registry.verify(registry=str(reg))
    assert report.problems == [] and report.versions == 2 and report.objects == 4
    name, top_hash, lineage = read_lineage(None, registry=str(reg), require=True)
    assert top_hash == OLD_MODEL and lineage["data"]["top_hash"] == OLD_DATA
    assert TrainConfig.from_dict(lineage["training"]["config"]).epochs == 1  # what reproduce retrains with
    done = subprocess.run(
        [sys.executable, "-m", "fashion_lib", "packages", "verify", "--registry", str(reg)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and "no problems" in done.stdout, done


def test_new_versions_carry_a_schema_version_and_old_registries_accept_them(tmp_path):
    reg = tmp_path / "old"
    shutil.copytree(FIXTURE, reg)
    (tmp_path / "t.csv").write_bytes(b"label,pixel1\n5,5\n")
    top_hash = registry.push(NAME, {"t.csv": tmp_path / "t.csv"}, registry=str(reg), message="new")
    opened = registry.open(str(reg))
    assert opened.manifest(NAME, top_hash).schema == registry.manifest.SCHEMA_VERSION
    assert [v.top_hash for v in opened.list_versions(NAME)] == [top_hash, OLD_DATA]
    assert registry.verify(registry=opened).problems == []


def test_stock_quilt3_reads_a_local_package_where_it_was_written(published, tmp_path):
    reg, top_hash, data = published
    pkg = registry.quilt().Package.browse(NAME, registry=reg.as_uri(), top_hash=top_hash)
    assert pkg.top_hash == top_hash
    pkg.fetch(str(tmp_path / "stock") + "/")
    assert (tmp_path / "stock" / "train.csv").read_bytes() == data
