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

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import seaweedfs  # tests/ is on sys.path (pytest rootdir-relative imports)
from csv_support import fashion_csvs

from fashion_lib import registry
from fashion_lib.registry.base import POINTERS
from fashion_lib.registry.publish import Published, publish, repair
from fashion_lib.registry.s3 import S3Registry

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


def test_republishing_pins_the_object_version_stored_now(bucket, client, tmp_path):
    made, (v1, v2, v3) = three_versions_sharing_a_deleted_pin(bucket, client, tmp_path)
    reg = registry.open(bucket)
    # v3 stored test.csv again: the manifest is written again, pinning that version (v2 the latest again)
    assert publish(reg, NAME, made["files"][1]) == Published(v2, added=True, written=1)
    assert pinned(bucket, v2, "test.csv")[1] not in (made["version"], "")
    assert registry.verify(registry=bucket, name=NAME, top_hash=v2).problems == []
    fetched = registry.fetch(NAME, tmp_path / "out2", registry=bucket, top_hash=v2)
    assert fetched.files["test.csv"].read_bytes() == made["files"][1]["test.csv"].read_bytes()

    # what data prepare / data push of data that is already a version call: the same, from the CSVs
    assert repair(reg, NAME, v1, list(made["files"][0].values())) == ["test.csv"]
    assert registry.verify(registry=bucket).problems == []
    assert repair(reg, NAME, v1, list(made["files"][0].values())) == []
    again = publish(reg, NAME, made["files"][1])
    assert (again.top_hash, again.written) == (v2, 0)


def test_republishing_over_other_bytes_and_a_deleted_pin_repairs(bucket, client, tmp_path, capsys):
    files = small(tmp_path / "src", train=b"label,p\n1,0\n2,255\n", test=b"label,p\n3,7\n")
    top_hash = registry.push(NAME, files, registry=bucket)
    key, version = pinned(bucket, top_hash, "train.csv")
    name = bucket.removeprefix("s3://")
    client.put_object(Bucket=name, Key=key, Body=b"label,p\n1,0\n2,254\n")  # a new current version, other bytes
    assert registry.push(NAME, files, registry=bucket) == top_hash  # before: "... changed while it was being published"
    assert registry.verify(registry=bucket).problems == []
    client.delete_object(Bucket=name, Key=key, VersionId=version)
    client.put_object(Bucket=name, Key=key, Body=b"label,p\n1,0\n2,254\n")
    assert registry.verify(registry=bucket).problems  # the pinned version is gone
    capsys.readouterr()
    assert registry.push(NAME, files, registry=bucket) == top_hash  # before: its manifest still pinned it
    assert f"Repaired {NAME}@{top_hash[:12]}: 2 files written again in {bucket}" in capsys.readouterr().err
    assert registry.verify(registry=bucket).problems == []
    fetched = registry.fetch(NAME, tmp_path / "out", registry=bucket)
    assert fetched.files["train.csv"].read_bytes() == files["train.csv"].read_bytes()


def fashion(*args: str, env: dict[str, str] | None = None, code: str | None = None) -> subprocess.CompletedProcess:
    """The ``fashion`` command in a fresh process (``code`` runs first, in the same interpreter)."""
    run = f"{code or ''}\nimport sys\nfrom fashion_lib.cli.main import main\nsys.exit(main({list(args)!r}))"
    done = subprocess.run(
        [sys.executable, "-c", run],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env=seaweedfs.subprocess_env({**(env or {}), "PYTHONPATH": str(ROOT)}),
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def push_args(reg: str, csvs: dict[str, Path]) -> list[str]:
    return ["data", "push", "--name", NAME, "--registry", reg, "--accept", "small test data"] + [
        "--train",
        str(csvs["train"]),
        "--test",
        str(csvs["test"]),
    ]


def test_data_push_repairs_a_deleted_object_version(bucket, client, seaweed, tmp_path):
    env = seaweedfs.client_env(seaweed, "writer")
    csvs = fashion_csvs(tmp_path / "csvs", 11)
    first = fashion(*push_args(bucket, csvs), env=env)
    assert first.returncode == 0, first.stderr
    top_hash = registry.resolve_top_hash(NAME, None, registry=bucket)
    key, version = pinned(bucket, top_hash, TEST_CSV)
    client.delete_object(Bucket=bucket.removeprefix("s3://"), Key=key, VersionId=version)
    assert fashion("packages", "verify", "--registry", bucket, env=env).returncode == 3

    again = fashion(*push_args(bucket, csvs), env=env)  # before: exit 2, "... changed while it was being published"
    assert again.returncode == 0, again.stderr
    endpoint = env["AWS_ENDPOINT_URL"]  # named as model push names it; before: the bucket alone
    said = f"Repaired {NAME}@{top_hash[:12]}: 1 file written again in {bucket} (endpoint {endpoint})"
    assert again.stdout.splitlines()[0] == said
    verified = fashion("packages", "verify", "--registry", bucket, env=env)
    assert verified.returncode == 0 and "no problems" in verified.stdout, verified.stderr
    fetched = fashion("data", "fetch", "--name", NAME, "--registry", bucket, "--dest", str(tmp_path / "out"), env=env)
    assert fetched.returncode == 0, fetched.stderr
    assert (tmp_path / "out" / TEST_CSV).read_bytes() == csvs["test"].read_bytes()
    whole = fashion(*push_args(bucket, csvs), env=env)
    assert whole.stdout.splitlines()[0] == f"Already published: {NAME}@{top_hash[:12]} in {bucket}", whole.stderr


# --- Ctrl-C between the version pointer and latest; a latest left behind -------------------------


def ctrl_c_after_the_version_pointer(monkeypatch, store: type) -> None:
    """The push gets SIGINT (a real one, to this process) just after writing its dated version pointer."""
    original = store.write

    def write(self, key: str, data: bytes) -> None:
        original(self, key, data)
        if key.startswith(f"{POINTERS}/{NAME}/") and key.rsplit("/", 1)[1].isdigit():
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(store, "write", write)


def test_ctrl_c_after_the_version_pointer_on_s3_waits_for_latest(bucket, tmp_path, monkeypatch):
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    first = registry.push(NAME, small(tmp_path / "a", train=b"1", test=b"2"), registry=bucket)
    ctrl_c_after_the_version_pointer(monkeypatch, S3Registry)
    reg = registry.open(bucket)
    with pytest.raises(KeyboardInterrupt) as info:
        publish(reg, NAME, small(tmp_path / "b", train=b"3", test=b"2"))
    second = reg.versions(NAME)[0][1]
    assert second != first and f"{NAME}@{second} was published" in str(info.value)
    assert reg.pointers(NAME)["latest"] == second  # before: still the first
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_during_a_local_push_says_what_was_published(tmp_path):
    reg = str(tmp_path / "registry")
    assert fashion(*push_args(reg, fashion_csvs(tmp_path / "one", 1))).returncode == 0
    code = f"""
import os, signal
from fashion_lib.registry.local import LocalRegistry
original = LocalRegistry.write
def write(self, key, data):
    original(self, key, data)
    if key.startswith("{POINTERS}/{NAME}/") and key.rsplit("/", 1)[1].isdigit():
        os.kill(os.getpid(), signal.SIGINT)
LocalRegistry.write = write
"""
    stopped = fashion(*push_args(reg, fashion_csvs(tmp_path / "two", 2)), code=code)
    newest = registry.open(reg).versions(NAME)[0][1]
    assert stopped.returncode == 130, stopped.stderr
    assert stopped.stderr.splitlines()[-1] == (
        f"fashion: interrupted: {NAME}@{newest} was published before the push stopped (it is the latest version)"
    )
    assert registry.open(reg).pointers(NAME)["latest"] == newest  # before: the first version


def test_a_latest_left_behind_is_noted_and_pointed_again_by_pushing_the_newest(tmp_path):
    reg = str(tmp_path / "registry")
    csvs = [fashion_csvs(tmp_path / "one", 1), fashion_csvs(tmp_path / "two", 2)]
    for one in csvs:
        assert fashion(*push_args(reg, one)).returncode == 0
    store = registry.open(reg)
    (_, newest), (_, old) = store.versions(NAME)
    store.write(f"{POINTERS}/{NAME}/latest", old.encode())  # as a push stopped between the two left it

    noted = fashion("packages", "verify", "--registry", reg, "--json")
    assert noted.returncode == 0, noted.stderr
    assert json.loads(noted.stdout)["stale_latest"] == [{"name": NAME, "latest": old, "newest": newest}]
    said = fashion("packages", "verify", "--registry", reg)
    assert f"{NAME}'s latest pointer names {old[:12]}, not its newest version {newest[:12]}" in said.stdout

    again = fashion(*push_args(reg, csvs[1]))  # before: "Already published", latest left as it was
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0] == registry.repaired_line(f"{NAME}@{newest[:12]}", 1, reg)
    assert store.pointers(NAME)["latest"] == newest and len(store.versions(NAME)) == 2
    assert "latest pointer" not in fashion("packages", "verify", "--registry", reg).stdout

    files = {"a.csv": csvs[1]["train"]}
    made = publish(store, "t/other", files)
    store.write(f"{POINTERS}/t/other/latest", ("0" * 64).encode())  # names no version at all: not the newest
    assert publish(store, "t/other", files) == Published(made.top_hash, added=False, written=1)
    assert store.pointers("t/other")["latest"] == made.top_hash and len(store.versions("t/other")) == 1


def test_verify_beside_a_push_between_its_version_pointer_and_latest_notes_nothing(tmp_path, monkeypatch):
    """A push writes its version's pointer, then latest; a verify that read the pointers in between read latest
    again after its checks, and so does not call the push stopped (before: "latest pointer names ...")."""
    from fashion_lib.registry import check

    reg = str(tmp_path / "registry")
    for k in (1, 2):
        assert fashion(*push_args(reg, fashion_csvs(tmp_path / str(k), k))).returncode == 0
    store = registry.open(reg)
    (_, newest), (_, old) = store.versions(NAME)
    store.write(f"{POINTERS}/{NAME}/latest", old.encode())  # the push is between its two pointer writes
    checking = check._check_version

    def push_finishes(*args, **kwargs):
        store.write(f"{POINTERS}/{NAME}/latest", newest.encode())  # ... and writes latest while verify checks
        return checking(*args, **kwargs)

    monkeypatch.setattr(check, "_check_version", push_finishes)
    assert check.verify(store).stale_latest == []
    monkeypatch.setattr(check, "_check_version", checking)
    store.write(f"{POINTERS}/{NAME}/latest", old.encode())  # a push stopped there: still noted
    assert check.verify(store).stale_latest == [{"name": NAME, "latest": old, "newest": newest}]
