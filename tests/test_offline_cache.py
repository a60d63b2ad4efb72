"""A model version already fetched into the cache serves ``fashion predict`` (and ``load_model``, ``model
fetch``) while its registry cannot be reached: a registry folder that is gone (unmounted, renamed) or an
S3 endpoint nobody listens on. The copy is verified first (its recorded manifest against the top hash,
its files against the manifest) and used with a note on stderr; a damaged copy is named in the error; a
registry that answers "no such version" is never bypassed; a copy without a record is not used. Real
local registries on disk and a tiny real Keras model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import cli, closed_s3_env, one_line

from fashion_lib import registry
from fashion_lib.model_package import fetch_model
from fashion_lib.registry.cache import RECORD

MODEL = "fashion-mnist/model"


def _tiny_model(path: Path, units: int = 10) -> Path:
    import keras

    layers = [keras.layers.Flatten(), keras.layers.Dense(units), keras.layers.Dense(10, activation="softmax")]
    keras.Sequential([keras.Input(shape=(28, 28)), *layers]).save(path)
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home whose registry holds two versions of a tiny model package (the later one the latest)."""
    folder = tmp_path / "home"
    monkeypatch.setenv("FASHION_HOME", str(folder))
    for units in (4, 8):
        model = _tiny_model(tmp_path / f"tiny{units}.keras", units)
        registry.push(MODEL, {"clf.keras": model}, registry=str(folder / "registry"))
    return folder


def _versions(home: Path) -> list[str]:
    """Top hashes, newest first."""
    return [v.top_hash for v in registry.list_versions(registry=str(home / "registry"), name=MODEL)]


def _unmount(home: Path) -> None:
    (home / "registry").rename(home / "registry-elsewhere")


def test_predict_by_top_hash_from_the_cache_when_the_registry_folder_is_gone(home: Path, image: Path) -> None:
    latest, older = _versions(home)
    cached = fetch_model(top_hash=older, registry=str(home / "registry")).dest
    assert json.loads((cached / RECORD).read_text())["top_hash"] == older  # the fetch kept the manifest
    _unmount(home)
    done = cli("predict", str(image), "--top-hash", older[:8], FASHION_HOME=str(home))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{image}\t") and len(done.stdout.splitlines()) == 1
    note = one_line(done)
    assert note.startswith(f"note: {registry.describe(str(home / 'registry'))} cannot be reached (no such folder); ")
    assert f"using {MODEL}@{older[:12]} from the cache, fetched " in note and "latest" not in note


def test_predict_of_the_latest_uses_the_newest_fetched_copy_and_says_so(home: Path, image: Path) -> None:
    latest, older = _versions(home)
    for top_hash, when in ((latest, "2026-11-28T09:15:00+00:00"), (older, "2026-11-29T02:40:00+00:00")):
        record = fetch_model(top_hash=top_hash, registry=str(home / "registry")).dest / RECORD
        record.write_text(json.dumps({**json.loads(record.read_text()), "fetched": when}))  # the older, fetched later
    _unmount(home)
    done = cli("predict", str(image), FASHION_HOME=str(home))
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1
    assert one_line(done).endswith(
        f"cannot be reached (no such folder); using {MODEL}@{older[:12]} from the cache, "
        "fetched 2026-11-29 02:40 UTC, which may not be the latest version"
    )


def test_load_model_and_a_fetch_into_a_folder_work_from_the_cache(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fashion_lib.model_package import load_model

    latest = _versions(home)[0]
    fetch_model(registry=str(home / "registry"))
    _unmount(home)
    assert load_model(registry=str(home / "registry")).output_shape == (None, 10)
    fetched = fetch_model(registry=str(home / "registry"), dest=tmp_path / "mine", overwrite=False)
    assert fetched.top_hash == latest and fetched.dest == tmp_path / "mine"
    assert sorted(p.name for p in fetched.dest.iterdir()) == ["clf.keras"]  # the files only, no record
    assert capsys.readouterr().err.count("may not be the latest version") == 2


def test_a_tampered_cached_file_is_named_in_the_one_error_line(home: Path, image: Path) -> None:
    cached = fetch_model(registry=str(home / "registry")).dest
    with open(cached / "clf.keras", "r+b") as fh:
        fh.seek(100)
        fh.write(b"\0\1\2\3")
    _unmount(home)
    done = cli("predict", str(image), FASHION_HOME=str(home))
    line = one_line(done)
    assert done.returncode != 0 and done.stdout == ""
    assert "no such folder" in line and f"the cached copy of {MODEL}@" in line
    assert "clf.keras differs from its manifest" in line


def test_a_registry_that_answers_no_such_version_is_not_bypassed(home: Path, image: Path, tmp_path: Path) -> None:
    older = _versions(home)[1]
    fetch_model(top_hash=older, registry=str(home / "registry"))
    other = tmp_path / "other"  # a registry that is there, holding another version only
    registry.push(MODEL, {"clf.keras": _tiny_model(tmp_path / "other.keras", 3)}, registry=str(other))
    gone = cli("predict", str(image), "--top-hash", older, "--registry", str(tmp_path / "gone"), FASHION_HOME=str(home))
    assert gone.returncode == 0, gone.stderr  # a registry that is not there: the cache stands in
    done = cli("predict", str(image), "--top-hash", older, "--registry", str(other), FASHION_HOME=str(home))
    line = one_line(done)
    assert done.returncode == 4 and f"{MODEL} has no version {older}" in line and "note" not in done.stderr


def test_a_cached_copy_without_its_manifest_is_not_used(home: Path, image: Path) -> None:
    cached = fetch_model(registry=str(home / "registry")).dest
    _unmount(home)
    assert cli("predict", str(image), FASHION_HOME=str(home)).returncode == 0
    (cached / RECORD).unlink()  # a copy fetched before records were kept
    done = cli("predict", str(image), FASHION_HOME=str(home))
    line = one_line(done)
    assert done.returncode == 4 and "(no such folder)" in line and "note" not in line


def test_predict_from_the_cache_while_the_s3_endpoint_is_down(home: Path, image: Path) -> None:
    older = _versions(home)[1]
    fetch_model(top_hash=older, registry=str(home / "registry"))
    env = closed_s3_env(home)  # connections refused
    port = env["AWS_ENDPOINT_URL"].rsplit(":", 1)[1]
    done = cli("predict", str(image), "--top-hash", older[:10], "--registry", "s3://bucket", **env)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1
    note = one_line(done)
    assert note.startswith(f"note: registry s3://bucket (endpoint http://127.0.0.1:{port}) cannot be reached (")
    assert f"using {MODEL}@{older[:12]} from the cache" in note
    assert "latest" not in note
    done = cli("predict", str(image), "--registry", "s3://bucket", **env)  # no copy fetched from that registry
    assert done.returncode == 5 and "cannot reach s3://bucket" in one_line(done)


def test_load_data_reads_a_data_version_from_the_cache_when_the_registry_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``fashion evaluate``'s (and a notebook's) data half: the data version fetched before, verified again."""
    from csv_support import fashion_csvs

    from fashion_lib import data

    monkeypatch.setenv("FASHION_HOME", str(tmp_path / "home"))
    reg = str(tmp_path / "home" / "registry")
    top_hash = data.publish_csvs(
        fashion_csvs(tmp_path / "csvs", seed=8), registry=reg, name="t/data", accept="random", log=lambda _: None
    ).top_hash
    first = data.load_data(registry=reg, name="t/data")
    assert first.top_hash == top_hash
    capsys.readouterr()
    _unmount(tmp_path / "home")
    again = data.load_data(registry=reg, name="t/data")
    assert again.top_hash == top_hash and len(again.train) == len(first.train) == 40
    note = capsys.readouterr().err.strip()
    assert note.startswith("note: ") and f"t/data@{top_hash[:12]}" in note and "from the cache" in note, note
    assert data.load_data(registry=reg, name="t/data", bootstrap=True).top_hash == top_hash  # evaluate's way
    assert "which may not be the latest version" in capsys.readouterr().err
