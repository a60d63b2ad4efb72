"""The registry layer against a real local registry on disk (no network)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fashion_lib import registry
from fashion_lib.errors import IntegrityError, RegistryError
from fashion_lib.registry.base import PACKAGES

NAME = "fashion-mnist/data"


@pytest.fixture
def reg(tmp_path: Path) -> str:
    return str(tmp_path / "registry")


def objects_in(reg: str) -> list[Path]:
    return sorted((Path(reg) / registry.OBJECTS).iterdir())


def test_push_fetch_round_trip_restores_meta_and_message(reg, sources, tmp_path):
    top_hash = registry.push(NAME, sources, registry=reg, meta={"rows": 3}, message="first", readme="# Data\n")
    got = registry.fetch(NAME, tmp_path / "out", registry=reg)
    assert got.top_hash == top_hash and len(top_hash) == 64
    assert got.meta == {"rows": 3} and got.message == "first"
    assert set(got.files) == {"train.csv", "test.csv", "README.md"}
    assert got.files["train.csv"].read_bytes() == sources["train.csv"].read_bytes()
    assert got.files["README.md"].read_text() == "# Data\n"
    assert registry.read_meta(NAME, registry=reg) == (top_hash, {"rows": 3}, "first")


def test_registry_keeps_its_own_copy_when_sources_change(reg, sources, tmp_path):
    original = sources["train.csv"].read_bytes()
    registry.push(NAME, sources, registry=reg)
    sources["train.csv"].write_bytes(b"label,pixel1\n9,9\n")  # edit the source after publishing
    got = registry.fetch(NAME, tmp_path / "out", registry=reg)
    assert got.files["train.csv"].read_bytes() == original


def test_corrupted_object_is_refused_and_nothing_is_written(reg, sources, tmp_path):
    top_hash = registry.push(NAME, sources, registry=reg)
    for obj in objects_in(reg):
        if obj.read_bytes() == sources["train.csv"].read_bytes():
            obj.write_bytes(obj.read_bytes().replace(b"255", b"254"))  # same size, other bytes
    with pytest.raises(IntegrityError) as info:
        registry.fetch(NAME, tmp_path / "out", registry=reg)
    message = str(info.value)
    assert "train.csv" in message and f"{NAME}@{top_hash[:7]}" in message and "corrupted" in message
    assert not (tmp_path / "out").exists()
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_fetch_into_existing_folder_keeps_other_files(reg, sources, tmp_path):
    registry.push(NAME, sources, registry=reg)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    got = registry.fetch(NAME, out, registry=reg)
    assert (out / "notes.txt").read_text() == "mine"
    assert got.files["test.csv"].parent == out


def test_interrupted_push_takes_back_the_objects_it_added_and_keeps_shared_ones(reg, sources, monkeypatch):
    registry.push(NAME, {"train.csv": sources["train.csv"]}, registry=reg, message="first")
    shared = objects_in(reg)
    write = registry.LocalRegistry.write

    def ctrl_c_at_the_manifest(self, key, data):
        if key.startswith(PACKAGES):
            raise KeyboardInterrupt
        write(self, key, data)

    monkeypatch.setattr(registry.LocalRegistry, "write", ctrl_c_at_the_manifest)
    with pytest.raises(KeyboardInterrupt):
        registry.push(NAME, sources, registry=reg, message="second")  # stores test.csv, then Ctrl-C
    assert objects_in(reg) == shared  # test.csv's object went; train.csv's, named by "first", stayed
    monkeypatch.undo()
    assert [v.message for v in registry.list_versions(registry=reg, name=NAME)] == ["first"]
    assert registry.verify(registry=reg, name=NAME).problems == []


def test_ctrl_c_just_after_an_object_is_stored_takes_it_back(reg, sources, monkeypatch):
    """Before: the object was noted as the push's own only after store_object returned, so an interrupt in
    between left an object no manifest names (until gc)."""
    store = registry.LocalRegistry.store_object

    def ctrl_c_once_stored(self, entry, source):
        store(self, entry, source)
        raise KeyboardInterrupt

    monkeypatch.setattr(registry.LocalRegistry, "store_object", ctrl_c_once_stored)
    with pytest.raises(KeyboardInterrupt):
        registry.push(NAME, sources, registry=reg)
    assert objects_in(reg) == []


def test_two_pushes_in_one_second_both_listed_and_fetchable(reg, sources, tmp_path, same_second):
    first = registry.push(NAME, sources, registry=reg, message="one")
    sources["test.csv"].write_bytes(b"label,pixel1\n4,4\n")
    second = registry.push(NAME, sources, registry=reg, message="two")
    versions = registry.list_versions(registry=reg, name=NAME)
    assert [v.top_hash for v in versions] == [second, first]
    assert [v.message for v in versions] == ["two", "one"]
    assert registry.fetch(NAME, tmp_path / "a", registry=reg, top_hash=first[:10]).top_hash == first
    assert registry.fetch(NAME, tmp_path / "b", registry=reg).top_hash == second


def test_a_burst_of_pushes_in_one_second_keeps_its_order(reg, sources, same_second):
    pushed = []
    for i in range(5):
        sources["test.csv"].write_bytes(f"label,pixel1\n{i},{i}\n".encode())
        pushed.append(registry.push(NAME, sources, registry=reg, message=f"push {i}"))
    versions = registry.list_versions(registry=reg, name=NAME)
    assert [v.top_hash for v in versions] == pushed[::-1]  # newest first, every one listed
    assert [v.message for v in versions] == [f"push {i}" for i in reversed(range(5))]
    assert registry.resolve_top_hash(NAME, None, registry=reg) == pushed[-1]


def test_unchanged_repush_copies_nothing_and_adds_no_version(reg, sources):
    first = registry.push(NAME, sources, registry=reg, meta={"a": 1}, message="m")
    stamps = [p.stat().st_mtime_ns for p in objects_in(reg)]
    again = registry.push(NAME, sources, registry=reg, meta={"a": 1}, message="m")
    assert again == first
    assert [p.stat().st_mtime_ns for p in objects_in(reg)] == stamps
    assert len(registry.list_versions(registry=reg, name=NAME)) == 1


def test_identical_files_are_stored_once(reg, tmp_path):
    (tmp_path / "a").write_bytes(b"same")
    (tmp_path / "b").write_bytes(b"same")
    registry.push(NAME, {"a.txt": tmp_path / "a", "b.txt": tmp_path / "b"}, registry=reg)
    assert len(objects_in(reg)) == 1


def test_list_versions_covers_all_packages_newest_first(reg, sources):
    registry.push("fashion-mnist/data", sources, registry=reg, message="data")
    registry.push("fashion-mnist/model", {"clf.keras": sources["test.csv"]}, registry=reg, message="model")
    versions = registry.list_versions(registry=reg)
    assert {v.name for v in versions} == {"fashion-mnist/data", "fashion-mnist/model"}
    assert versions == sorted(versions, key=lambda v: v.created, reverse=True)
    assert registry.list_versions(registry=reg, name="fashion-mnist/none") == []


def test_unknown_package_and_version_are_registry_errors(reg, sources, tmp_path):
    with pytest.raises(RegistryError, match="not in local registry .*publish it first"):
        registry.fetch(NAME, tmp_path / "out", registry=reg)
    registry.push(NAME, sources, registry=reg)
    with pytest.raises(RegistryError, match="has no version 0000000.*known versions"):
        registry.fetch(NAME, tmp_path / "out", registry=reg, top_hash="0000000")
    with pytest.raises(RegistryError, match="not a top hash"):
        registry.read_meta(NAME, registry=reg, top_hash="latest!")
    with pytest.raises(RegistryError, match="invalid package name"):
        registry.push("no-slash", sources, registry=reg)
    with pytest.raises(RegistryError, match="is not a file"):
        registry.push(NAME, {"x.csv": tmp_path / "missing.csv"}, registry=reg)
    assert not (tmp_path / "out").exists()


def test_ambiguous_prefix_is_a_registry_error(reg, tmp_path):
    hashes = []
    for i in range(40):  # 40 versions: two of them share a first hex digit
        (tmp_path / "f").write_text(str(i))
        hashes.append(registry.push(NAME, {"f": tmp_path / "f"}, registry=reg))
    digit = next(h[0] for h in hashes if sum(x[0] == h[0] for x in hashes) > 1)
    with pytest.raises(RegistryError, match="ambiguous"):
        registry.resolve_top_hash(NAME, digit, registry=reg)
    assert registry.resolve_top_hash(NAME, hashes[3], registry=reg) == hashes[3]
    assert len(registry.list_versions(registry=reg, name=NAME)) == 40


def test_describe_and_default_registry(tmp_path, monkeypatch):
    monkeypatch.setenv("FASHION_REGISTRY", str(tmp_path / "r"))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    assert registry.describe(None) == f"local registry {tmp_path / 'r'}"
    assert registry.describe("s3://bucket") == "s3://bucket"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
    assert registry.describe("s3://bucket/") == "s3://bucket (endpoint http://127.0.0.1:9000)"


@pytest.mark.slow  # imports quilt3 and its stack in a fresh interpreter (~5 s)
def test_quilt_is_imported_lazily_with_usage_metrics_off():
    code = (
        "import sys; import fashion_lib.registry as r; assert 'quilt3' not in sys.modules; "
        "q = r.quilt(); print(q.telemetry.ApiTelemetry.telemetry_is_disabled())"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUILT_")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True"]


def test_user_can_turn_usage_metrics_back_on_and_ci_gets_no_progress_bars(monkeypatch):
    monkeypatch.setenv("QUILT_DISABLE_USAGE_METRICS", "false")
    monkeypatch.delenv("QUILT_MINIMIZE_STDOUT", raising=False)
    monkeypatch.setenv("CI", "true")
    registry._quilt_environment()
    assert os.environ["QUILT_DISABLE_USAGE_METRICS"] == "false"
    assert os.environ["QUILT_MINIMIZE_STDOUT"] == "true"
    monkeypatch.delenv("CI")
    monkeypatch.delenv("QUILT_MINIMIZE_STDOUT")
    registry._quilt_environment()
    assert "QUILT_MINIMIZE_STDOUT" not in os.environ  # users get progress bars


@pytest.mark.slow  # imports quilt3 and its stack in a fresh interpreter (~5 s)
def test_usage_metrics_stay_off_even_if_quilt3_was_imported_first():
    code = "import quilt3, fashion_lib.registry as r; print(r.quilt().telemetry.ApiTelemetry.telemetry_disabled)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUILT_")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True"]
