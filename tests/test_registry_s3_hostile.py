"""Hostile S3 registries: edited and forged manifests, a key in another bucket, racing writers.

Runs on the session's real SeaweedFS server (tests/seaweedfs.py), as the writer identity.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import hostile
import pytest
import seaweedfs  # tests/ is on sys.path (pytest rootdir-relative imports)

from fashion_lib import registry
from fashion_lib.console import short
from fashion_lib.errors import BucketNotFound, IntegrityError

pytestmark = pytest.mark.slow  # a real SeaweedFS server, racing writers

NAME = "fashion-mnist/data"


@pytest.fixture
def endpoint(seaweed) -> Iterator[str]:
    with seaweedfs.use_identity(seaweed, "writer"):
        yield seaweed.endpoint


@pytest.fixture
def bucket(endpoint, seaweed) -> str:
    return seaweed.create_bucket(f"hostile-{uuid.uuid4().hex[:12]}", versioned=False)


@pytest.fixture
def client(endpoint, seaweed):
    return seaweed.client("writer")


@pytest.fixture
def published(bucket, tmp_path) -> str:
    (tmp_path / "train.csv").write_bytes(b"label,pixel1\n1,0\n2,255\n")
    (tmp_path / "test.csv").write_bytes(b"label,pixel1\n3,7\n")
    return registry.push(
        NAME, {"train.csv": tmp_path / "train.csv", "test.csv": tmp_path / "test.csv"}, registry=bucket, message="good"
    )


def put_manifest(client, bucket: str, lines: list[dict], top_hash: str | None = None) -> str:
    top_hash = top_hash or hostile.quilt_top_hash(lines)
    name = bucket[len("s3://") :]
    client.put_object(
        Bucket=name,
        Key=f".quilt/packages/{top_hash}",
        Body=("\n".join(json.dumps(line) for line in lines) + "\n").encode(),
    )
    client.put_object(Bucket=name, Key=f".quilt/named_packages/{NAME}/1", Body=top_hash.encode())
    client.put_object(Bucket=name, Key=f".quilt/named_packages/{NAME}/latest", Body=top_hash.encode())
    return top_hash


def manifest_lines(client, bucket: str, top_hash: str) -> list[dict]:
    body = client.get_object(Bucket=bucket[len("s3://") :], Key=f".quilt/packages/{top_hash}")["Body"].read()
    return [json.loads(line) for line in body.decode().splitlines() if line.strip()]


def test_edited_manifest_on_s3_is_refused_and_listed_as_damaged(bucket, client, published, tmp_path):
    lines = manifest_lines(client, bucket, published)
    put_manifest(client, bucket, lines[:-1], top_hash=published)  # last line dropped, same name
    with pytest.raises(IntegrityError, match=f"{NAME}@{short(published)} is damaged"):
        registry.fetch(NAME, tmp_path / "out", registry=bucket)
    assert not (tmp_path / "out").exists()
    [version] = registry.list_versions(registry=bucket)
    assert version.damaged
    assert registry.verify(registry=bucket).problems


def test_entry_with_a_key_in_another_bucket_is_never_read(bucket, client, published, tmp_path, seaweed):
    other = f"elsewhere-{uuid.uuid4().hex[:8]}"
    seaweed.create_bucket(other, versioned=False)
    secret = b"another team's data\n"
    client.put_object(Bucket=other, Key="secret.csv", Body=secret)
    lines = [
        {"version": "v0", "message": "evil", "user_meta": {}},
        hostile.entry("secret.csv", f"s3://{other}/secret.csv", secret),
    ]
    forged = put_manifest(client, bucket, lines)  # consistent: quilt3 computed its top hash
    with pytest.raises(IntegrityError, match="not in the registry's object store"):
        registry.fetch(NAME, tmp_path / "out", registry=bucket, top_hash=forged)
    assert not (tmp_path / "out").exists()
    # the same key in our bucket, but not where the hash says: not read either
    client.put_object(Bucket=bucket[len("s3://") :], Key="secret.csv", Body=secret)
    lines[1]["physical_keys"] = [f"{bucket}/secret.csv"]
    forged = put_manifest(client, bucket, lines)
    with pytest.raises(IntegrityError, match="not in the registry's object store"):
        registry.fetch(NAME, tmp_path / "out", registry=bucket, top_hash=forged)
    # where stock quilt3 pushes another package's file (<owner>/<name>/<logical key>): not read either
    client.put_object(Bucket=bucket[len("s3://") :], Key="hr/payroll/secret.csv", Body=secret)
    lines[1]["physical_keys"] = [f"{bucket}/hr/payroll/secret.csv"]
    forged = put_manifest(client, bucket, lines)
    with pytest.raises(IntegrityError, match="not in the registry's object store"):
        registry.fetch(NAME, tmp_path / "out", registry=bucket, top_hash=forged)
    assert not (tmp_path / "out").exists()


def test_object_longer_than_declared_is_refused(bucket, client, published, tmp_path):
    lines = manifest_lines(client, bucket, published)
    entry = next(line for line in lines[1:] if line["logical_key"] == "test.csv")
    key = entry["physical_keys"][0].split("/", 3)[3].split("?")[0]
    client.put_object(Bucket=bucket[len("s3://") :], Key=key, Body=b"label,pixel1\n3,7\n" + b"0" * 10_000)
    said = f"is stored as 10017 bytes, not the {entry['size']} its manifest says, in "  # verify's words (wrong_size)
    with pytest.raises(IntegrityError, match=said):
        registry.fetch(NAME, tmp_path / "out", registry=bucket)
    assert any(said in problem for problem in registry.verify(registry=bucket).problems)


def test_missing_bucket_is_its_own_error(endpoint, tmp_path):
    with pytest.raises(BucketNotFound, match="bucket does not exist"):
        registry.list_versions(registry=f"s3://no-such-{uuid.uuid4().hex[:8]}")


RACER = textwrap.dedent("""
    import sys, time, types
    from pathlib import Path
    from fashion_lib import registry
    from fashion_lib.registry import base
    base.time = types.SimpleNamespace(time=lambda: 1_800_000_000.0)  # every writer in the same second
    bucket, folder, writer = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    for i in range(3):
        source = folder / f"w{writer}-{i}.csv"
        source.write_text(f"label,pixel1\\n{writer},{i}\\n")
        print(registry.push("fashion-mnist/data", {"t.csv": source}, registry=bucket), flush=True)
""")


def test_racing_writers_in_one_second_keep_every_printed_version(bucket, tmp_path):
    tests = str(Path(__file__).parent)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, bucket, str(tmp_path), str(w), tests],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(3)
    ]
    printed = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        printed += out.split()
    assert len(set(printed)) == 9
    assert {v.top_hash for v in registry.list_versions(registry=bucket, name=NAME)} == set(printed)


def test_republish_repairs_an_overwritten_object_and_trusts_a_good_one_by_etag(bucket, client, published, tmp_path):
    lines = manifest_lines(client, bucket, published)
    entry = next(line for line in lines[1:] if line["logical_key"] == "train.csv")
    key = entry["physical_keys"][0].split("/", 3)[3].split("?")[0]
    client.put_object(Bucket=bucket[len("s3://") :], Key=key, Body=b"label,pixel1\n1,0\n2,254\n")  # same size
    with pytest.raises(IntegrityError, match="does not match its hash"):
        registry.fetch(NAME, tmp_path / "bad", registry=bucket)
    files = {"train.csv": tmp_path / "train.csv", "test.csv": tmp_path / "test.csv"}
    with seaweedfs.count_requests() as requests:
        assert registry.push(NAME, files, registry=bucket, message="good") == published
    assert requests.uploads()[0] == 1  # only the damaged object went up again
    assert (
        registry.fetch(NAME, tmp_path / "out", registry=bucket).files["train.csv"].read_bytes()
        == (tmp_path / "train.csv").read_bytes()
    )
    with seaweedfs.count_requests() as requests:
        registry.push(NAME, files, registry=bucket, message="good")
    gets = [r for r in requests.seen if r[0] == "GET" and "/objects/" in r[1]]
    assert requests.uploads() == (0, 0) and gets == []  # unchanged: ETags suffice, nothing read back


def test_a_writer_that_finishes_last_points_latest_at_the_newest_version(bucket, tmp_path, monkeypatch):
    """Two pushes racing on S3: the other writer took a later second while this one confirmed its own pointer.
    Before: whichever wrote latest last won, so latest named the older version (3 races in 5 by helper 73);
    verify noted it and a fetch without a top hash got the older data. Now latest goes to the newest listed."""
    from fashion_lib.registry.base import POINTERS

    other = published_version(bucket, tmp_path / "other", b"label,pixel1\n5,5\n")
    reg = registry.open(bucket)
    write, raced = type(reg).write, []

    def racing(self, key, data):
        if key.endswith("/latest") and not raced:  # the other writer's pointer lands, one second later
            stamp = max(int(k) for k in self.pointers(NAME) if k.isdigit()) + 1
            write(self, f"{POINTERS}/{NAME}/{stamp}", other.encode())
            raced.append(stamp)
        return write(self, key, data)

    monkeypatch.setattr(type(reg), "write", racing)
    mine = published_version(bucket, tmp_path / "mine", b"label,pixel1\n6,6\n")
    monkeypatch.undo()
    assert raced and mine != other
    assert registry.open(bucket).pointers(NAME)["latest"] == other
    assert registry.resolve_top_hash(NAME, None, registry=bucket) == other
    assert not registry.verify(registry=bucket).stale_latest  # before: "latest pointer names ..., not its newest"


def published_version(bucket: str, folder: Path, csv: bytes) -> str:
    folder.mkdir()
    (folder / "t.csv").write_bytes(csv)
    return registry.push(NAME, {"t.csv": folder / "t.csv"}, registry=bucket)


def test_ctrl_c_while_a_racing_writer_takes_latest_names_the_newer_version(bucket, tmp_path, monkeypatch):
    """Ctrl-C during a push's pointers while another writer's newer version lands on S3. Before, the line
    said this version "is the latest version" though latest named the other one; now it names that one."""
    import signal

    from fashion_lib.console import short
    from fashion_lib.registry.base import POINTERS
    from fashion_lib.registry.pointing import Interrupted

    other = published_version(bucket, tmp_path / "other", b"label,pixel1\n5,5\n")
    reg = registry.open(bucket)
    write, raced = type(reg).write, []

    def racing(self, key, data):
        if key.endswith("/latest") and not raced:
            stamp = max(int(k) for k in self.pointers(NAME) if k.isdigit()) + 1
            write(self, f"{POINTERS}/{NAME}/{stamp}", other.encode())
            raced.append(stamp)
            signal.raise_signal(signal.SIGINT)  # held until both pointers are written
        return write(self, key, data)

    monkeypatch.setattr(type(reg), "write", racing)
    with pytest.raises(Interrupted) as stopped:
        published_version(bucket, tmp_path / "mine", b"label,pixel1\n6,6\n")
    monkeypatch.undo()
    assert raced
    mine = next(h for h in registry.open(bucket).pointers(NAME).values() if h != other)
    assert str(stopped.value) == (
        f"{NAME}@{mine} was published before the push stopped "
        f"(latest names {short(other)}, a newer version another writer pushed meanwhile)"
    )


def test_verify_repair_removes_what_a_synced_local_registry_left_in_the_bucket(published, bucket, client, tmp_path):
    """``aws s3 sync`` of a local registry carries its .fashion-tmp files and staged objects/.* files; no S3 writer
    makes such keys. Before, they stayed through verify --repair and gc --delete for ever (helper 98)."""
    name = bucket[len("s3://") :]
    leftovers = [".fashion-tmp/clf.keras.x1", "objects/.0a1b2c.x2"]
    kept = ["Thumbs.db", ".fashion.lock"]
    for key in leftovers + kept:
        client.put_object(Bucket=name, Key=key, Body=b"carried by a sync")
    report = registry.verify(registry=bucket, repair=True)
    assert report.problems == [] and sorted(report.repaired) == sorted(
        f"removed leftover temporary file {bucket}/{key}" for key in leftovers
    )
    keys = {item["Key"] for item in client.list_objects_v2(Bucket=name).get("Contents", [])}
    assert not keys & set(leftovers) and set(kept) <= keys
    assert registry.fetch(NAME, tmp_path / "out", registry=bucket).top_hash == published
