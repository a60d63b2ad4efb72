"""``fashion predict`` from a read-only home: a cache that already holds the model version (every
file hash-checked) is only read, so no write access is needed; only a version that must still be
downloaded into a read-only cache is an error, one line naming the folder. A real registry and a
tiny real Keras model on disk; the folder made read-only for real (``chmod``, or as root, where
``chmod`` binds no one, a read-only bind mount)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cli_support import cli, one_line
from readonly_support import read_only

from fashion_lib import registry
from fashion_lib.model_package import fetch_model

MODEL = "fashion-mnist/model"


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.rglob("*")}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home whose registry holds a tiny model package."""
    import keras

    tiny = keras.Sequential(
        [keras.Input(shape=(28, 28)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    )
    tiny.save(tmp_path / "tiny.keras")
    folder = tmp_path / "home"
    registry.push(MODEL, {"clf.keras": tmp_path / "tiny.keras"}, registry=str(folder / "registry"))
    return folder


def _cache(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Fill the home's cache with the model version; its folder."""
    monkeypatch.setenv("FASHION_HOME", str(home))
    return fetch_model(registry=str(home / "registry")).dest


def test_predict_reads_a_complete_cache_in_a_read_only_home(
    home: Path, image: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = _cache(home, monkeypatch)
    before = snapshot(home)
    with read_only(home):
        with pytest.raises(OSError):
            (home / "probe").touch()  # really read-only
        done = cli("predict", str(image), FASHION_HOME=str(home))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{image}\t") and len(done.stdout.splitlines()) == 1
    assert snapshot(home) == before and (cache / "clf.keras").is_file()


def test_a_download_into_a_read_only_cache_is_one_line_naming_the_folder(
    home: Path, image: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = _cache(home, monkeypatch)
    shutil.rmtree(cache)  # the version must be downloaded again
    before = snapshot(home)
    with read_only(home):
        done = cli("predict", str(image), FASHION_HOME=str(home))
    line = one_line(done)
    assert done.returncode == 2 and done.stdout == ""
    assert f"cannot write into {cache}:" in line and "nothing was changed there" in line
    assert ".fetching" not in line  # our staging folder is no name a reader knows
    assert snapshot(home) == before
