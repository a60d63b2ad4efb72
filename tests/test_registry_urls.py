"""``--registry`` / ``FASHION_REGISTRY`` as a ``file:`` URL (RFC 8089): ``file:///p`` and
``file://localhost/p`` name the folder ``/p``, percent-decoded; another host is one line, exit 2.
Real registry folders; the command runs as a user would."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from cli_support import cli, one_line

from fashion_lib import registry, settings
from fashion_lib.errors import ConfigError

NAME = "t/data"


@pytest.fixture
def reg(tmp_path: Path) -> Path:
    """A registry in a folder whose name needs percent-encoding in a URL."""
    (tmp_path / "train.csv").write_text("label,pixel1\n1,0\n")
    folder = tmp_path / "dir with space" / "registry"
    csvs = {settings.TRAIN_CSV: tmp_path / "train.csv", settings.TEST_CSV: tmp_path / "train.csv"}  # a data package
    registry.push(NAME, csvs, registry=str(folder))
    return folder


@pytest.mark.parametrize("prefix", ["file://", "file://localhost", "FILE://LocalHost", "file:"])
def test_a_local_file_url_names_its_absolute_folder(reg: Path, tmp_path: Path, prefix: str) -> None:
    url = prefix + quote(str(reg))
    assert "%20" in url and settings.registry(url) == str(reg)
    done = cli("data", "fetch", "--name", NAME, "--registry", url, "--dest", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / settings.TRAIN_CSV).read_text() == "label,pixel1\n1,0\n"


def test_a_push_to_file_localhost_lands_in_the_folder_not_under_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    (tmp_path / "a.csv").write_text("a\n")
    top_hash = registry.push(NAME, {"a.csv": tmp_path / "a.csv"}, registry=f"file://localhost{tmp_path}/reg")
    assert registry.resolve_top_hash(NAME, None, registry=str(tmp_path / "reg")) == top_hash
    assert list((tmp_path / "work").iterdir()) == []


@pytest.mark.parametrize(
    "url, why",
    [
        ("file://otherhost/srv/reg", "names the host 'otherhost', and a registry on another machine is not supported"),
        ("file://registry", "names the host 'registry'"),
        ("file://localhost", "names no absolute folder"),
        ("file:relative/reg", "names no absolute folder"),
        ("file:///srv/reg#1", "holds '?' or '#'"),
    ],
)
def test_a_file_url_that_names_no_local_folder_is_one_line(tmp_path: Path, url: str, why: str) -> None:
    with pytest.raises(ConfigError, match="expected file:///ABSOLUTE/PATH or a plain folder"):
        settings.registry(url)
    done = cli("packages", "list", "--registry", url, FASHION_HOME=str(tmp_path))
    line = one_line(done)
    assert done.returncode == 2 and line.startswith(f"fashion: error: registry '{url}': {why}")
    done = cli("packages", "list", FASHION_REGISTRY=url, FASHION_HOME=str(tmp_path))
    assert done.returncode == 2 and why in one_line(done)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", [5, {"path": "reg"}, ["reg"], 1.5])
def test_a_registry_that_is_no_text_or_path_is_one_line_not_a_folder_named_after_it(
    value: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"^registry is .*; expected a folder, file://FOLDER or s3://BUCKET"):
        registry.open(value)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []  # no folder "./5" made or named
