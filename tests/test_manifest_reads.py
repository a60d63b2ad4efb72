"""Fetching a model or data version reads its manifest from the registry once: the check that the version
holds the right files and the fetch itself share one verified read (on S3, one round trip less). A real
local registry on disk; every read goes through ``Registry.manifest``, which is counted."""

from __future__ import annotations

from pathlib import Path

import pytest
from csv_support import fashion_csvs

from fashion_lib import registry
from fashion_lib.data import load_data
from fashion_lib.model_package import fetch_model
from fashion_lib.registry.base import Registry


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names whose manifest was read, one entry per read."""
    seen: list[str] = []
    original = Registry.manifest

    def counted(self, name: str, top_hash: str):
        seen.append(name)
        return original(self, name, top_hash)

    monkeypatch.setattr(Registry, "manifest", counted)
    return seen


def test_a_model_fetch_reads_the_manifest_once(tmp_path: Path, monkeypatch, reads: list[str]) -> None:
    monkeypatch.setenv("FASHION_HOME", str(tmp_path / "home"))
    model = tmp_path / "clf.keras"
    model.write_bytes(b"not really a model; fetch_model only moves it")
    store = str(tmp_path / "registry")
    registry.push("fashion-mnist/model", {"clf.keras": model}, registry=store)
    reads.clear()
    fetched = fetch_model(registry=store)
    assert (fetched.dest / "clf.keras").read_bytes() == model.read_bytes()
    assert reads == ["fashion-mnist/model"]


def test_loading_a_data_version_reads_the_manifest_once(tmp_path: Path, monkeypatch, reads: list[str]) -> None:
    monkeypatch.setenv("FASHION_HOME", str(tmp_path / "home"))
    csvs = fashion_csvs(tmp_path / "csvs", seed=7)
    store = str(tmp_path / "registry")
    files = {"fashion-mnist_train.csv": csvs["train"], "fashion-mnist_test.csv": csvs["test"]}
    registry.push(
        "fashion-mnist/data",
        files,
        registry=store,
        meta={"rows": {"fashion-mnist_train.csv": 40, "fashion-mnist_test.csv": 20}},
    )
    reads.clear()
    loaded = load_data(registry=store, name="fashion-mnist/data")
    assert (len(loaded.train), len(loaded.test)) == (40, 20)
    assert reads == ["fashion-mnist/data"]


def test_a_message_with_a_unicode_line_separator_reads_back(tmp_path: Path) -> None:
    """quilt3 writes manifests as JSON lines with ensure_ascii=False, so U+2028 in a message is stored raw: before,
    str.splitlines cut the line there and every read said the version was damaged ("line 1 is not JSON"; review 103)."""
    from fashion_lib.registry import manifest as mf
    from fashion_lib.registry.layout import PACKAGES

    source = tmp_path / "a.csv"
    source.write_bytes(b"label,pixel1\n1,0\n")
    store = str(tmp_path / "registry")
    message = "retrained\u2028on new shirts\u2029and\x85more"
    top_hash = registry.push("t/data", {"a.csv": source}, registry=store, message=message)
    reg = registry.open(store)
    found = reg.manifest("t/data", top_hash)
    assert [e.key for e in found.entries] == ["a.csv"]
    assert registry.verify(registry=store).problems == []
    data = reg.read(f"{PACKAGES}/{top_hash}", mf.MAX_MANIFEST_BYTES + 1)
    assert "\u2028".encode() in data  # stored raw, as quilt3 stores it
    again = mf.with_physical_keys(data, {"a.csv": "s3://b/objects/x"})
    assert mf.parse(again, "t/data", top_hash).entries[0].physical_key == "s3://b/objects/x"
    assert again.count(b"\n") == data.count(b"\n")  # no line added or lost
