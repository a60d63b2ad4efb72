"""A data package name that is not in the registry: only the configured one is ever prepared.

`fashion run`, `train` and `evaluate` prepare the data package when the registry lacks it, but
only under the configured name ($FASHION_DATA_PACKAGE, else fashion-mnist/data); a mistyped
`--data-package` is exit 4 with one line, and nothing is written to the registry. A package
that holds no CSVs (a model package's name given as the data's) is exit 2, before a byte is fetched.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fashion_lib import data, registry
from fashion_lib.errors import PackageNotFound


@pytest.fixture
def reg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real registry on disk holding fashion-mnist/data; preparing data anew fails the test."""
    monkeypatch.delenv("FASHION_DATA_PACKAGE", raising=False)
    monkeypatch.setenv("FASHION_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(data, "prepare_data", lambda **kw: pytest.fail(f"prepared a data package: {kw.get('name')}"))
    (tmp_path / "train.csv").write_text("label\n")
    registry.push(
        "fashion-mnist/data", {"fashion-mnist_train.csv": tmp_path / "train.csv"}, registry=str(tmp_path / "reg")
    )
    return tmp_path / "reg"


def _files(folder: Path) -> list[tuple[str, bytes]]:
    return sorted((str(p.relative_to(folder)), p.read_bytes()) for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("command", [["train", "--preset", "quick"], ["run"]])
def test_a_mistyped_data_package_is_exit_4_and_writes_nothing(
    reg: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    from fashion_lib.cli import main

    before = _files(reg)
    out = tmp_path / "out"
    argv = [*command, "--registry", str(reg), "--data-package", "nope/nope", "--output-dir", str(out)]
    assert main(argv) == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("fashion: error: package nope/nope is not in local registry")
    assert "(it holds fashion-mnist/data)" in err and "'fashion data prepare --name nope/nope'" in err
    assert _files(reg) == before and not out.exists()


def test_evaluate_data_is_not_prepared_under_another_name(reg: Path) -> None:
    """``fashion evaluate --data-package`` loads its data this way."""
    with pytest.raises(PackageNotFound, match="package other/pkg is not in") as info:
        data.load_data(registry=str(reg), name="other/pkg", bootstrap=True)
    assert info.value.exit_code == 4
    assert [v.name for v in registry.list_versions(registry=str(reg))] == ["fashion-mnist/data"]


@pytest.mark.parametrize("configured", [None, "team/data"])
def test_the_configured_data_package_is_still_prepared_when_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, configured: str | None
) -> None:
    if configured:
        monkeypatch.setenv("FASHION_DATA_PACKAGE", configured)
    else:
        monkeypatch.delenv("FASHION_DATA_PACKAGE", raising=False)
    prepared: list[str] = []

    def prepare(*, registry, name, log):
        prepared.append(name)
        return data.PreparedData(name, "d" * 64, registry.location, {})

    monkeypatch.setattr(data, "prepare_data", prepare)
    empty = str(tmp_path / "empty")
    assert data.ensure_data_package(registry=empty, log=lambda line: None) == "d" * 64
    assert data.ensure_data_package(registry=empty, name=configured or "fashion-mnist/data", log=print) == "d" * 64
    assert prepared == [configured or "fashion-mnist/data"] * 2


@pytest.mark.parametrize("command", [["train", "--preset", "quick", "--data-package"], ["data", "check", "--name"]])
def test_a_model_package_given_as_the_data_is_exit_2_before_fetching(
    reg: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    from fashion_lib.cli import main

    (tmp_path / "clf.keras").write_bytes(b"a model, not CSVs")
    registry.push("team/model", {"clf.keras": tmp_path / "clf.keras"}, registry=str(reg))
    assert main([*command, "team/model", "--registry", str(reg)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("fashion: error: team/model@"), err
    assert "has no fashion-mnist_train.csv or fashion-mnist_test.csv; is it a data package?" in err
    assert not (tmp_path / "home" / "data" / "packages").exists()  # nothing was fetched
