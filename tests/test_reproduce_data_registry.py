"""`fashion reproduce` of a model whose data lives in another registry (``model push RUN --registry M`` of
a run trained on data in D): the data version is taken from --registry where it is there, else from the
registry the lineage records (where this machine reaches it, said in one line), else from --data-registry;
found nowhere, one line names where it looked. A pushed reproduction goes to --registry. Training is
stopped before it starts (the data is loaded and verified for real)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from csv_support import fashion_csvs

from fashion_lib import registry, run_steps
from fashion_lib.cli import main
from fashion_lib.config import TrainConfig
from fashion_lib.data import publish_csvs
from fashion_lib.errors import ConfigError

MODEL = "fashion-mnist/model"
STOPPED = "stopped before training (test)"


def _data(reg: Path, tmp_path: Path, seed: int = 3) -> str:
    """A small data package version in ``reg``; its top hash."""
    csvs = fashion_csvs(tmp_path / f"csv-{reg.name}", seed=seed)
    return publish_csvs(csvs, registry=str(reg), accept="random test data", log=lambda line: None).top_hash


def _model(reg: Path, data_hash: str, recorded: str, tmp_path: Path) -> str:
    """A model version in ``reg`` whose lineage records the data ``data_hash`` in the registry ``recorded``."""
    (tmp_path / "clf.keras").write_bytes(b"weights")
    config = TrainConfig.from_preset("quick").replace(limit=0, validation_size=8, epochs=1)
    lineage = {
        "data": {"name": "fashion-mnist/data", "top_hash": data_hash, "registry": recorded},
        "training": {"config": config.to_dict(), "epochs_run": 1},
        "metrics": {"test_accuracy": 0.1, "test_loss": 2.3},
    }
    return registry.push(MODEL, {"clf.keras": tmp_path / "clf.keras"}, registry=str(reg), meta=lineage)


@pytest.fixture
def stop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Training stops before it starts, once the data is loaded (``Data: ...`` says from where)."""
    from fashion_lib import train

    def stopped() -> Any:
        raise ConfigError(STOPPED)

    monkeypatch.setattr(train, "strategy_from_environment", stopped)


def _reproduce(capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str) -> tuple[int, list[str]]:
    code = main(["reproduce", *args, "--output-dir", str(tmp_path / "out")])
    return code, capsys.readouterr().err.splitlines()


def test_data_in_the_registry_the_lineage_records_is_taken_from_there(
    tmp_path: Path, stop: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data_reg, model_reg = tmp_path / "D", tmp_path / "M"
    data_hash = _data(data_reg, tmp_path)
    top = _model(model_reg, data_hash, str(data_reg), tmp_path)
    monkeypatch.setenv("FASHION_REGISTRY", str(data_reg))  # --registry overrides it: no help before the fix
    code, err = _reproduce(capsys, tmp_path, top[:12], "--registry", str(model_reg))
    assert (code, err[-1]) == (2, f"fashion: error: {STOPPED}"), err
    said = f"fashion-mnist/data@{data_hash[:12]} is not in local registry {model_reg}; taking it from local registry "
    assert [line for line in err if line.startswith(said)] == [
        f"{said}{data_reg} (the data's registry, as the lineage records it)"
    ]
    assert any(
        line.startswith("Data: ") and line.endswith(f"from local registry {data_reg}; outputs: {tmp_path}/out")
        for line in err
    ), err


def test_data_registry_names_it_where_the_recorded_folder_is_not_here(
    tmp_path: Path, stop: None, capsys: pytest.CaptureFixture[str]
) -> None:
    data_reg, model_reg = tmp_path / "D", tmp_path / "M"
    data_hash = _data(data_reg, tmp_path)
    top = _model(model_reg, data_hash, "/another/machine/registry", tmp_path)
    code, err = _reproduce(capsys, tmp_path, top, "--registry", str(model_reg), "--data-registry", str(data_reg))
    assert (code, err[-1]) == (2, f"fashion: error: {STOPPED}"), err
    assert any(line.startswith("Data: ") and f"from local registry {data_reg};" in line for line in err), err
    assert not any("is not in" in line for line in err), err  # asked for: no note


def test_data_found_nowhere_is_one_line_naming_where_it_looked(
    tmp_path: Path, stop: None, capsys: pytest.CaptureFixture[str]
) -> None:
    data_reg, model_reg, empty = tmp_path / "D", tmp_path / "M", tmp_path / "E"
    data_hash = _data(data_reg, tmp_path)
    _data(empty, tmp_path, seed=4)  # a registry with another version of the data package
    gone = "/another/machine/registry"
    top = _model(model_reg, data_hash, gone, tmp_path)
    wanted = f"data version fashion-mnist/data@{data_hash[:12]} is not in"
    code, err = _reproduce(capsys, tmp_path, top, "--registry", str(model_reg))
    assert code == 4 and err[1:] == [
        f"fashion: error: {wanted} local registry {model_reg}; the lineage records its registry as recorded on the "
        f"publishing machine: {gone} (no such folder on this machine); name the registry that holds it with "
        "--data-registry"
    ], err
    code, err = _reproduce(capsys, tmp_path, top, "--registry", str(model_reg), "--data-registry", str(empty))
    assert code == 4 and err[1:] == [
        f"fashion: error: {wanted} local registry {empty} (--data-registry); name the registry that holds it with "
        "--data-registry"
    ], err
    assert not (tmp_path / "out").exists()


def test_data_in_the_models_registry_is_taken_from_there_without_a_note(
    tmp_path: Path, stop: None, capsys: pytest.CaptureFixture[str]
) -> None:
    both = tmp_path / "M"
    data_hash = _data(both, tmp_path)
    top = _model(both, data_hash, str(tmp_path / "D"), tmp_path)  # recorded elsewhere, but here too
    code, err = _reproduce(capsys, tmp_path, top, "--registry", str(both))
    assert (code, err[-1]) == (2, f"fashion: error: {STOPPED}"), err
    assert not any("is not in" in line for line in err), err


def test_a_pushed_reproduction_goes_to_the_registry_not_the_datas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """train_evaluate_publish with a data_registry: data from there, the model to ``registry``."""
    data_reg, model_reg = tmp_path / "D", tmp_path / "M"
    data_hash = _data(data_reg, tmp_path)
    published: list[Any] = []
    monkeypatch.setattr(run_steps, "fit", lambda run, **kw: run)
    monkeypatch.setattr(run_steps, "assess", lambda run, **kw: run)
    monkeypatch.setattr(run_steps, "report", lambda evaluation: "scores")
    monkeypatch.setattr(run_steps, "publish", lambda run, **kw: published.append(kw["registry"]))
    config = TrainConfig.from_preset("quick").replace(limit=0, validation_size=8, epochs=1)
    run = run_steps.train_evaluate_publish(
        config,
        registry=str(model_reg),
        data_registry=str(data_reg),
        data_top_hash=data_hash,
        output_dir=tmp_path / "out",
        strategy=object(),
        log=lambda line: None,
    )
    assert run.data.registry == str(data_reg) and run.data.top_hash == data_hash
    assert [str(reg) for reg in published] == [str(model_reg)]


@pytest.mark.slow
def test_a_real_reproduction_reads_the_datas_registry_and_pushes_to_the_models(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """End to end: one tiny epoch, pushed; the new version is in M and its lineage records D."""
    data_reg, model_reg = tmp_path / "D", tmp_path / "M"
    data_hash = _data(data_reg, tmp_path)
    top = _model(model_reg, data_hash, str(data_reg), tmp_path)
    code = main(["reproduce", top, "--registry", str(model_reg), "--push", "--tolerance", "100"])
    out = capsys.readouterr().out
    assert code == 0, out
    pushed = out.strip().splitlines()[-1].removeprefix("model top hash: ")
    assert pushed in [v.top_hash for v in registry.list_versions(registry=str(model_reg), name=MODEL)]
    assert {v.name for v in registry.list_versions(registry=str(data_reg))} == {"fashion-mnist/data"}
    assert registry.read_meta(MODEL, registry=str(model_reg), top_hash=pushed)[1]["data"]["registry"] == str(data_reg)


def test_a_store_whose_bucket_is_gone_does_not_hide_the_recorded_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model's store answering "no such bucket" for the data is a place without it, as "no such
    package" is: the registry the lineage records is asked next (before, the store was returned)."""
    from fashion_lib.errors import BucketNotFound
    from fashion_lib.reproduce import find_data

    data_reg, model_reg = tmp_path / "D", tmp_path / "M"
    data_hash = _data(data_reg, tmp_path)
    store = registry.open(str(model_reg))

    def gone(name: str, top_hash: str | None = None) -> str:
        raise BucketNotFound("s3://gone: the bucket does not exist")

    monkeypatch.setattr(store, "resolve", gone)
    said: list[str] = []
    data = {"name": "fashion-mnist/data", "top_hash": data_hash, "registry": str(data_reg)}
    found = find_data(data, store, log=said.append)
    assert found.location == str(data_reg) and len(said) == 1
