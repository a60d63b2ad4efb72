"""``lineage.registry_here``: the one answer to "does this machine reach the registry a lineage records",
shared by ``fashion model lineage`` (``recorded_registry``) and ``fashion reproduce`` (``find_data``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fashion_lib.lineage import recorded_registry, registry_here


def test_an_s3_url_and_an_absolute_folder_here_are_reachable(tmp_path: Path) -> None:
    assert registry_here("s3://bucket/prefix")
    assert registry_here(str(tmp_path))


@pytest.mark.parametrize("where", [None, "", 7, ["s3://bucket"], "https://example.com/registry", "registry"])
def test_what_names_no_registry_here_is_not_reachable(where: object) -> None:
    assert not registry_here(where)


def test_a_missing_folder_a_file_and_a_relative_folder_are_not_reachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "registry").mkdir()
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.chdir(tmp_path)
    assert not registry_here(str(tmp_path / "gone"))
    assert not registry_here(str(tmp_path / "a-file"))
    assert not registry_here("registry")  # the publishing machine's relative path, not this folder


def test_describe_says_a_recorded_folder_is_here_exactly_when_it_is_reachable(tmp_path: Path) -> None:
    for where in (str(tmp_path), str(tmp_path / "gone")):
        assert ("this machine has that folder" in recorded_registry(where)) == registry_here(where)
