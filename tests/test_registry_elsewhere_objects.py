"""A manifest whose physical key names another store's ``objects/<hex>`` (a registry copied from there).

fashion reads an entry's bytes only from its own registry's ``objects/<hex>``; where that object is
missing, ``verify`` names where the manifest says the file is, not only "republish".
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import seaweedfs  # tests/ is on sys.path

from fashion_lib import registry
from fashion_lib.errors import IntegrityError
from fashion_lib.registry import manifest as mf

NAME = "t/data"


def _publish(reg_url: str, folder: Path) -> tuple[str, mf.Entry]:
    folder.mkdir()
    (folder / "train.csv").write_bytes(b"label,p\n1,0\n")
    (folder / "test.csv").write_bytes(b"label,p\n3,7\n")
    files = {"train.csv": folder / "train.csv", "test.csv": folder / "test.csv"}
    top_hash = registry.push(NAME, files, registry=reg_url)
    entry = next(e for e in registry.open(reg_url).manifest(NAME, top_hash).entries if e.key == "test.csv")
    return top_hash, entry


def _names_elsewhere(reg_url: str, top_hash: str, entry: mf.Entry, elsewhere: str) -> str:
    """Point test.csv's physical key at ``elsewhere`` (not hashed) and return verify's one problem."""
    reg = registry.open(reg_url)
    key = f".quilt/packages/{top_hash}"
    reg.write(key, mf.with_physical_keys(reg.read(key, mf.MAX_MANIFEST_BYTES), {"test.csv": elsewhere}))
    (problem,) = registry.verify(registry=reg_url).problems
    return problem


def test_local_entry_kept_in_another_registrys_store_is_named_when_missing(tmp_path):
    top_hash, entry = _publish(str(tmp_path / "reg"), tmp_path / "src")
    (tmp_path / "reg" / "objects" / entry.object_name).unlink()
    elsewhere = f"file:///elsewhere/objects/{entry.object_name}"
    line = _names_elsewhere(str(tmp_path / "reg"), top_hash, entry, elsewhere)
    assert line.startswith(f"test.csv in {NAME}@{top_hash[:12]} has no object {entry.object_name[:12]} in "), line
    assert f"its manifest names {elsewhere}, not this registry's store" in line  # before: only "republish"


def test_local_entry_naming_its_own_store_says_republish(tmp_path):
    top_hash, entry = _publish(str(tmp_path / "reg"), tmp_path / "src")
    (tmp_path / "reg" / "objects" / entry.object_name).unlink()
    (line,) = registry.verify(registry=str(tmp_path / "reg")).problems
    assert "its manifest names" not in line and "republish the package" in line, line


@pytest.mark.parametrize("elsewhere", [None, "file:///elsewhere/objects/{}"])
def test_a_fetch_missing_an_object_says_what_verify_says(tmp_path, elsewhere):
    """One wording for a missing object (check.no_object). Before, a fetch said it its own way ('is not in the
    registry's object store ... incomplete or damaged'), and never named where the manifest says the file is."""
    reg = str(tmp_path / "reg")
    top_hash, entry = _publish(reg, tmp_path / "src")
    (tmp_path / "reg" / "objects" / entry.object_name).unlink()
    if elsewhere:
        problem = _names_elsewhere(reg, top_hash, entry, elsewhere.format(entry.object_name))
    else:
        (problem,) = registry.verify(registry=reg).problems
    with pytest.raises(IntegrityError) as fetched:
        registry.fetch(NAME, tmp_path / "out", registry=reg)
    assert str(fetched.value) == problem and f"has no object {entry.object_name[:12]}" in problem, problem
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # a real SeaweedFS server
def test_s3_entry_kept_in_another_buckets_store_is_named_when_missing(seaweed, tmp_path):
    with seaweedfs.use_identity(seaweed, "writer"):
        bucket = seaweed.create_bucket(f"copied-{uuid.uuid4().hex[:12]}", versioned=False)
        top_hash, entry = _publish(bucket, tmp_path / "src")
        seaweed.client("writer").delete_object(Bucket=bucket[5:], Key=f"objects/{entry.object_name}")
        elsewhere = f"s3://other-bucket/objects/{entry.object_name}"
        line = _names_elsewhere(bucket, top_hash, entry, elsewhere)
    assert f"has no object {entry.object_name[:12]} in {bucket}" in line, line
    assert f"its manifest names {elsewhere}, not this registry's store" in line
