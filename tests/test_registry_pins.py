"""Object versions pinned by manifests, and the pointers a push writes, on a real S3 server (SeaweedFS,
a *versioned* bucket, as ``make registry-server`` makes) and real local registries.

On a versioned bucket each manifest entry's physical key pins one version of its object
(``objects/<hash>?versionId=V``), so two versions of a package may pin different versions of one
object: ``verify`` checks each pinned version (not each object once), naming the package version
whose pinned object is gone; republishing stores the bytes again and rewrites the manifest to pin
the new object version (same top hash: physical keys are not hashed). Ctrl-C while a push writes its
version pointer and ``latest`` waits for both, and a push of the newest version points a ``latest``
left behind at it again.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import seaweedfs  # tests/ is on sys.path (pytest rootdir-relative imports)

from fashion_lib import registry

pytestmark = pytest.mark.slow  # a real SeaweedFS server, CLI processes

NAME = "t/data"
ROOT = Path(__file__).resolve().parents[1]
TEST_CSV = "fashion-mnist_test.csv"


@pytest.fixture
def writer(seaweed):
    with seaweedfs.use_identity(seaweed, "writer") as env:
        yield env


@pytest.fixture
def bucket(writer, seaweed) -> str:
    return seaweedfs.new_bucket(seaweed, versioned=True)


@pytest.fixture
def client(writer, seaweed):
    return seaweed.client("writer")


def small(folder: Path, **files: bytes) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return {f"{name}.csv": folder / name for name in files}


def pinned(reg: str, top_hash: str, key: str) -> tuple[str, str]:
    """(object key, version id) the manifest of ``NAME@top_hash`` pins for ``key``."""
    entry = next(e for e in registry.open(reg).manifest(NAME, top_hash).entries if e.key == key)
    assert entry.physical_key and "?versionId=" in entry.physical_key, entry.physical_key
    return f"objects/{entry.object_name}", entry.physical_key.split("?versionId=")[1]


def three_versions_sharing_a_deleted_pin(bucket: str, client, tmp_path: Path) -> tuple[dict, list[str]]:
    """v1 and v2 share test.csv's object version, which is then deleted; v3 uploads test.csv again (a new
    object version). The tester's sequence."""
    test = b"label,p\n9,9\n"
    files = [small(tmp_path / f"v{i}", train=f"label,p\n{i},{i}\n".encode(), test=test) for i in (1, 2, 3)]
    hashes = [registry.push(NAME, files[0], registry=bucket), registry.push(NAME, files[1], registry=bucket)]
    key, version = pinned(bucket, hashes[1], "test.csv")
    assert pinned(bucket, hashes[0], "test.csv") == (key, version)
    client.delete_object(Bucket=bucket.removeprefix("s3://"), Key=key, VersionId=version)
    hashes.append(registry.push(NAME, files[2], registry=bucket))
    assert pinned(bucket, hashes[2], "test.csv")[1] != version
    return {"files": files, "version": version}, hashes


def test_verify_checks_every_pinned_object_version_and_names_each_version(bucket, client, tmp_path):
    made, (v1, v2, v3) = three_versions_sharing_a_deleted_pin(bucket, client, tmp_path)
    report = registry.verify(registry=bucket)
    assert len(report.problems) == 2, report.summary()  # before: "no problems", the object checked once
    for top_hash, other in ((v1, v2), (v2, v1)):
        (line,) = [p for p in report.problems if f"{NAME}@{top_hash[:12]}" in p]
        assert f"@{other[:12]}" not in line and made["version"] in line and line.startswith("test.csv in ")
    assert registry.verify(registry=bucket, name=NAME, top_hash=v3).problems == []
