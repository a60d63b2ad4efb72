"""Packages stock quilt3 pushed to an S3 registry, read by ``fashion``.

quilt3's ``Package.push`` stores each file at ``<name>/<logical key>`` in the bucket, not in the
registry's ``objects/<hex>``: ``fashion`` reads it there (same bucket only, hashed like any object),
and ``gc`` never counts it as garbage. The packages are pushed by the pinned quilt3 in a process of its
own, with nothing of ``fashion_lib`` loaded.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import seaweedfs  # tests/ is on sys.path
from cli_support import cli, one_line

pytestmark = pytest.mark.slow  # a real SeaweedFS server

NAME = "stock/data"
PUSH = """
import sys, quilt3
pkg = quilt3.Package()
for path in sys.argv[2:]:
    pkg.set(path.rsplit("/", 1)[1], path)
pkg.set_meta({"made_by": "stock quilt3"})
print(pkg.push("stock/data", registry=sys.argv[1], message="stock").top_hash)
"""


@pytest.fixture
def stock(seaweed, tmp_path: Path) -> tuple[str, str, dict[str, str], Path]:
    """(bucket URL, top hash, environment, folder of the files) of a data package stock quilt3 pushed."""
    bucket = seaweedfs.new_bucket(seaweed, versioned=True)
    src = tmp_path / "src"
    src.mkdir()
    (src / "fashion-mnist_train.csv").write_bytes(b"label,pixel1\n1,0\n2,255\n")
    (src / "fashion-mnist_test.csv").write_bytes(b"label,pixel1\n3,7\n")
    env = {**seaweedfs.client_env(seaweed), "FASHION_HOME": str(tmp_path / "home"), "QUILT_DISABLE_USAGE_METRICS": "1"}
    files = [str(p) for p in sorted(src.iterdir())]
    done = subprocess.run(
        [sys.executable, "-c", PUSH, bucket, *files],
        capture_output=True,
        text=True,
        timeout=120,
        env=seaweedfs.subprocess_env(env),
    )
    assert done.returncode == 0, done.stderr
    return bucket, done.stdout.split()[-1], env, src


def _same_files(dest: Path, src: Path) -> None:
    for path in src.iterdir():
        assert (dest / path.name).read_bytes() == path.read_bytes()


def test_fetch_verify_and_gc_of_a_stock_quilt3_push(stock, tmp_path):
    bucket, top_hash, env, src = stock
    fetched = cli("data", "fetch", "--registry", bucket, "--name", NAME, "--dest", str(tmp_path / "d"), **env)
    assert fetched.returncode == 0, fetched.stderr
    _same_files(tmp_path / "d", src)
    checked = cli("packages", "verify", "--registry", bucket, **env)
    assert checked.returncode == 0, checked.stderr
    assert "1 version(s), 2 object(s)" in checked.stdout
    collected = cli("packages", "gc", "--registry", bucket, "--grace", "0", "--delete", **env)
    assert collected.returncode == 0, collected.stderr
    again = cli(
        "data",
        "fetch",
        "--registry",
        bucket,
        "--name",
        NAME,
        "--top-hash",
        top_hash,
        "--dest",
        str(tmp_path / "e"),
        **env,
    )
    assert again.returncode == 0, again.stderr  # gc left quilt3's copies alone
    _same_files(tmp_path / "e", src)


def test_a_stock_quilt3_file_gone_is_named_where_quilt3_put_it(stock, seaweed, tmp_path):
    bucket, top_hash, env, _ = stock
    client, name = seaweed.client("admin"), bucket.removeprefix("s3://")
    for version in client.list_object_versions(Bucket=name, Prefix=f"{NAME}/fashion-mnist_test.csv")["Versions"]:
        client.delete_object(Bucket=name, Key=version["Key"], VersionId=version["VersionId"])
    checked = cli("packages", "verify", "--registry", bucket, **env)
    assert checked.returncode == 3
    line = one_line(checked)
    assert f"fashion-mnist_test.csv in {NAME}@{top_hash[:7]}" in line
    assert f"nor is it at {NAME}/fashion-mnist_test.csv?versionId=" in line
    fetched = cli("data", "fetch", "--registry", bucket, "--name", NAME, "--dest", str(tmp_path / "d"), **env)
    assert fetched.returncode == 3
    assert not (tmp_path / "d").exists()


def test_load_data_takes_a_stock_quilt3_subset_of_any_size(seaweed, tmp_path, monkeypatch):
    """Before: with no row counts recorded (stock quilt3 records none), ``load_data`` (``fashion train
    --data-package``) held the files to the official 60,000 and 10,000 rows: '40 data rows, expected 60000'."""
    from csv_support import random_csv

    from fashion_lib.data import load_data

    bucket = seaweedfs.new_bucket(seaweed, versioned=True)
    src = tmp_path / "src"
    files = [random_csv(src / "fashion-mnist_train.csv", 40, 1), random_csv(src / "fashion-mnist_test.csv", 20, 2)]
    env = {**seaweedfs.client_env(seaweed), "FASHION_HOME": str(tmp_path / "home"), "QUILT_DISABLE_USAGE_METRICS": "1"}
    pushed = subprocess.run(
        [sys.executable, "-c", PUSH, bucket, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        env=seaweedfs.subprocess_env(env),
    )
    assert pushed.returncode == 0, pushed.stderr
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    data = load_data(registry=bucket, name=NAME)
    assert (len(data.train), len(data.test), data.top_hash) == (40, 20, pushed.stdout.split()[-1])


BUILD = """
import sys, quilt3
pkg = quilt3.Package()
for path in sys.argv[2:]:
    pkg.set(path.rsplit("/", 1)[1], path)
print(pkg.build("stock/built", registry=sys.argv[1]))
"""


def test_a_stock_quilt3_build_names_the_file_kept_outside_the_registry(tmp_path):
    """``Package.build`` writes a manifest into a local registry and leaves the files where they were."""
    src, reg = tmp_path / "src", tmp_path / "reg"
    src.mkdir()
    for csv in ("fashion-mnist_test.csv", "fashion-mnist_train.csv"):
        (src / csv).write_bytes(b"label,pixel1\n3,7\n")
    env = {"FASHION_HOME": str(tmp_path / "home"), "QUILT_DISABLE_USAGE_METRICS": "1"}
    built = subprocess.run(
        [sys.executable, "-c", BUILD, str(reg), *(str(p) for p in sorted(src.iterdir()))],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(seaweedfs.subprocess_env(env), XDG_DATA_HOME=str(tmp_path / "xdg")),
    )
    assert built.returncode == 0, built.stderr
    kept = f"is kept by its manifest at {(src / 'fashion-mnist_test.csv').as_uri()}"
    fetched = cli(
        "data", "fetch", "--registry", str(reg), "--name", "stock/built", "--dest", str(tmp_path / "d"), **env
    )
    assert fetched.returncode == 3
    assert kept in one_line(fetched) and "stock quilt3's Package.build" in one_line(fetched)
    checked = cli("packages", "verify", "--registry", str(reg), **env)
    assert checked.returncode == 3
    assert kept in checked.stderr and "has no object" not in checked.stderr
