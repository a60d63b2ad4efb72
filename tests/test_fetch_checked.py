"""``registry.fetch_checked``: the one fetch behind ``fetch_data``, ``load_data`` and ``fetch_model``. The
version's verified manifest (from the registry, or from the cached copy standing in for a registry out of
reach) is given to the caller's check before a byte is fetched; then the version is fetched into the cache
(or a folder), or the copy is used. Real local registries on disk, plain files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fashion_lib import registry
from fashion_lib.errors import ConfigError, DestinationError, RegistryError
from fashion_lib.registry import cache
from fashion_lib.registry.cache import RECORD

NAME = "team/things"


@pytest.fixture
def reg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> registry.Registry:
    """A home whose registry holds one version of a package of one file."""
    monkeypatch.setenv("FASHION_HOME", str(tmp_path / "home"))
    (tmp_path / "a.txt").write_text("some bytes\n")
    store = registry.open(str(tmp_path / "home" / "registry"))
    registry.push(NAME, {"a.txt": tmp_path / "a.txt"}, registry=store)
    return store


def _refuse(found) -> None:
    raise ConfigError(f"{found.label} is not wanted")


def test_the_check_sees_the_manifest_and_the_version_lands_in_the_cache(reg: registry.Registry) -> None:
    seen = []
    fetched = registry.fetch_checked(reg, NAME, None, seen.append)
    assert [found.top_hash for found in seen] == [fetched.top_hash] == [reg.resolve(NAME)]
    assert fetched.dest == cache.folder(NAME, fetched.top_hash)
    assert fetched.files["a.txt"].read_text() == "some bytes\n"
    assert json.loads((fetched.dest / RECORD).read_text())["top_hash"] == fetched.top_hash


def test_a_refused_version_fetches_nothing(reg: registry.Registry, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not wanted"):
        registry.fetch_checked(reg, NAME, None, _refuse, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not cache.folder(NAME, reg.resolve(NAME)).exists()


def test_a_folder_that_differs_is_refused_unless_overwrite(reg: registry.Registry, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.txt").write_text("other bytes\n")
    with pytest.raises(DestinationError, match="a.txt"):
        registry.fetch_checked(reg, NAME, None, lambda found: None, tmp_path / "out", overwrite=False)
    fetched = registry.fetch_checked(reg, NAME, None, lambda found: None, tmp_path / "out", overwrite=True)
    assert fetched.files["a.txt"].read_text() == "some bytes\n"


def test_a_registry_out_of_reach_is_stood_in_for_and_the_copy_checked(
    reg: registry.Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    cached = registry.fetch_checked(reg, NAME, None, lambda found: None)
    Path(reg.location).rename(Path(reg.location).with_name("elsewhere"))
    with pytest.raises(ConfigError, match="is not wanted"):
        registry.fetch_checked(reg, NAME, None, _refuse)
    again = registry.fetch_checked(reg, NAME, None, lambda found: None)
    assert (again.dest, again.top_hash) == (cached.dest, cached.top_hash)
    assert "from the cache" in capsys.readouterr().err


def test_a_copy_already_found_is_used_without_asking_again(
    reg: registry.Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = registry.fetch_checked(reg, NAME, None, lambda found: None)
    Path(reg.location).rename(Path(reg.location).with_name("elsewhere"))
    with pytest.raises(RegistryError) as caught:
        reg.resolve(NAME)
    offline = cache.stand_in(reg, NAME, None, caught.value)
    assert offline is not None

    def asked(*args, **kwargs):
        raise AssertionError("the registry was asked again")

    monkeypatch.setattr(cache, "manifest_or_stand_in", asked)
    seen = []
    fetched = registry.fetch_checked(reg, NAME, None, seen.append, offline=offline)
    assert fetched.dest == cached.dest and [found.top_hash for found in seen] == [cached.top_hash]
