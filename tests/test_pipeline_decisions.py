"""The decisions the pipeline owns (not the CLI): the config from any source, up to date or train,
and the lineage of a run folder pushed later. No training here: the trainer is replaced."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fashion_lib import pipeline, registry
from fashion_lib.cli import _config, build_parser
from fashion_lib.config import TrainConfig
from fashion_lib.errors import ConfigError
from fashion_lib.quality.gate import META_KEY
from fashion_lib.runfolder import CONFIG_FILE, METRICS_FILE, RunFolder


def cli_config(*args: str) -> TrainConfig:
    return _config(build_parser().parse_args(["run", *args]))


def test_limit_0_means_all_images_for_every_source() -> None:
    assert cli_config("--limit", "0") == cli_config() == pipeline.config_from_parameters(limit=0)
    assert cli_config("--preset", "quick", "--limit", "0").limit is None  # not the preset's subset
    assert cli_config("--set", "limit=0").limit is None
    recorded = TrainConfig.from_preset("quick").to_dict()
    assert pipeline.config_from_parameters(recorded=recorded, limit=0).limit is None


def test_cli_flags_and_notebook_parameters_give_the_same_config() -> None:
    flags = cli_config("--preset", "quick", "--epochs", "2", "--set", "dropout=0.25", "--set", "optimizer=adam")
    assert flags == pipeline.config_from_parameters("quick", epochs=2, dropout=0.25, optimizer="adam")


def test_a_recorded_config_is_taken_whole() -> None:
    recorded = TrainConfig.from_preset("quick", epochs=3, seed=7).to_dict()
    assert pipeline.config_from_parameters(recorded=recorded).to_dict() == recorded
    assert pipeline.config_from_parameters(recorded=recorded, epochs=5).epochs == 5
    with pytest.raises(ConfigError, match="unknown setting 'nonsense'"):
        pipeline.config_from_parameters(recorded=recorded, assignments=["nonsense=1"])


@pytest.mark.parametrize("item", ["dropout", "=3"])
def test_bad_assignment_names_itself(item: str) -> None:
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        pipeline.config_from_parameters(assignments=[item])


def test_run_answers_up_to_date_without_training(monkeypatch: pytest.MonkeyPatch) -> None:
    lineage = {"metrics": {"test_accuracy": 0.91}}
    monkeypatch.setattr(pipeline, "ensure_data_package", lambda **kw: "d" * 64)
    monkeypatch.setattr(pipeline, "up_to_date_model", lambda config, data, **kw: ("m" * 64, lineage))
    monkeypatch.setattr(pipeline, "train_evaluate_publish", lambda *a, **kw: pytest.fail("trained"))
    logged: list[str] = []
    done = pipeline.run(TrainConfig(), log=logged.append)
    assert done == pipeline.UpToDate("m" * 64, "d" * 64, lineage) and done.test_accuracy == 0.91
    assert logged and logged[0].startswith("Up to date")


@pytest.mark.parametrize("kwargs", [{"force": True}, {"data_top_hash": "e" * 64}, {}])
def test_run_trains_when_forced_pinned_or_stale(monkeypatch: pytest.MonkeyPatch, kwargs: dict) -> None:
    monkeypatch.setattr(pipeline, "ensure_data_package", lambda **kw: "d" * 64)
    monkeypatch.setattr(pipeline, "up_to_date_model", lambda *a, **kw: None)
    calls: list[dict] = []
    monkeypatch.setattr(pipeline, "train_evaluate_publish", lambda config, **kw: calls.append(kw) or "trained")
    assert pipeline.run(TrainConfig(), **kwargs) == "trained"
    expected = kwargs.get("data_top_hash", None if kwargs.get("force") else "d" * 64)
    assert calls[0]["data_top_hash"] == expected  # trains on the version just checked


def test_model_push_builds_the_same_lineage_as_a_run(tmp_path: Path) -> None:
    reg = str(tmp_path / "registry")
    (tmp_path / "data.csv").write_text("label\n")
    quality = {"verdict": "pass", "accepted": None, "reference": "official", "checks": []}
    data_top = registry.push(
        "fashion-mnist/data", {"train.csv": tmp_path / "data.csv"}, registry=reg, meta={META_KEY: quality}
    )
    folder = RunFolder(tmp_path / "run")
    folder.path.mkdir()
    from fashion_lib.model import build_model, save_model

    save_model(
        build_model(TrainConfig(dense_units=8, precision="float32")), folder.model
    )  # a real model file (untrained)
    metrics = {
        "data_package": "fashion-mnist/data",
        "data_top_hash": data_top,
        "data_registry": reg,
        "test_accuracy": 0.9,
        "test_loss": 0.3,
        "per_class": {},
        "epochs_run": 2,
        "train_seconds": 9.5,
        "started": "s",
        "finished": "f",
        "model_top_hash": None,
    }
    (folder.path / METRICS_FILE).write_text(json.dumps(metrics))
    (folder.path / CONFIG_FILE).write_text(json.dumps({"epochs": 2}))
    folder.history_csv.write_text("epoch,loss\n1,0.5\n2,0.4\n")  # one row per epoch run
    top = pipeline.push_run_folder(folder.path, registry=reg)
    _, meta, _ = registry.read_meta("fashion-mnist/model", registry=reg, top_hash=top)
    assert meta["metrics"] == {"test_accuracy": 0.9, "test_loss": 0.3, "per_class": {}}
    assert meta["training"] == {
        "config": {"epochs": 2},
        "started": "s",
        "finished": "f",
        "seconds": 9.5,
        "epochs_run": 2,
    }
    assert meta["data"] == {
        "name": "fashion-mnist/data",
        "top_hash": data_top,
        "registry": reg,
        "quality": {"verdict": "pass", "accepted": None, "reference": "official", "failed": []},
    }


def test_model_push_of_an_unfinished_run_names_the_folder(tmp_path: Path) -> None:
    (tmp_path / METRICS_FILE).write_text(json.dumps({"data_package": "x"}))
    (tmp_path / CONFIG_FILE).write_text("{}")
    with pytest.raises(ConfigError, match=f"{METRICS_FILE}: no 'data_top_hash'"):
        pipeline.push_run_folder(tmp_path, registry=str(tmp_path / "registry"))
    with pytest.raises(ConfigError, match="missing: no such folder; expected the folder of a finished training run"):
        pipeline.push_run_folder(tmp_path / "missing", registry=str(tmp_path / "registry"))
    (tmp_path / "empty").mkdir()  # a folder without the run's files: the file is named
    with pytest.raises(
        ConfigError, match=f"empty/{METRICS_FILE}: is missing; expected the {METRICS_FILE} of a finished"
    ):
        pipeline.push_run_folder(tmp_path / "empty", registry=str(tmp_path / "registry"))


def test_cli_run_makes_one_call_and_prints_the_answer(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fashion_lib.cli import main

    calls: list[tuple[TrainConfig, dict]] = []

    def run(config: TrainConfig, **kwargs):
        calls.append((config, kwargs))
        return pipeline.UpToDate("m" * 64, "d" * 64, {"metrics": {"test_accuracy": 0.9123}})

    monkeypatch.setattr(pipeline, "run", run)
    assert main(["run", "--limit", "0", "--registry", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "test accuracy: 0.9123",
        f"data top hash: {'d' * 64}",
        f"model top hash: {'m' * 64}",
    ]
    assert main(["train", "--preset", "quick", "--registry", str(tmp_path)]) == 0
    (run_config, run_kwargs), (train_config, train_kwargs) = calls
    assert run_config == pipeline.config_from_parameters() and run_kwargs["force"] is False and run_kwargs["push"]
    assert (
        train_config == pipeline.config_from_parameters("quick")
        and train_kwargs["force"] is True
        and train_kwargs["push"] is False
    )


@pytest.mark.parametrize(
    ("reproduced", "verdict", "code"),
    [
        (0.9000, "reproduced: identical test accuracy", 0),
        (0.9040, "reproduced: test accuracy within the tolerance of 0.50 points (+0.40)", 0),
        (0.8950, "reproduced: test accuracy within the tolerance of 0.50 points (-0.50)", 0),  # on the line
        (0.8900, "NOT reproduced: test accuracy differs by -1.00 points, more than the tolerance of 0.50", 1),
    ],
)
def test_reproduce_judges_against_the_tolerance_and_exits_by_it(
    monkeypatch, capsys, tmp_path, reproduced, verdict, code
):
    """`fashion reproduce` prints recorded and reproduced metrics, what differs, the tolerance and why,
    one verdict, and exits 0 within the tolerance, 1 outside (the retraining itself:
    tests/test_pipeline.py, for real)."""
    from fashion_lib.cli import main

    _reproduce_returns(monkeypatch, reproduced, ["commit differs: recorded a, now b"])
    assert main(["reproduce", "0123abcd", "--registry", str(tmp_path)]) == code
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["metric", "recorded", "reproduced", "difference"]
    assert lines[1].split() == ["test_accuracy", "0.9000", f"{reproduced:.4f}", f"{reproduced - 0.9:+.4f}"]
    assert "note: commit differs: recorded a, now b" in lines and lines[-1] == verdict
    assert lines[-2].startswith("tolerance: 0.50 points (something differs from the recorded run")


def test_nothing_differing_means_bit_for_bit_and_tolerance_overrides(monkeypatch, capsys, tmp_path):
    from fashion_lib.cli import main

    asked = _reproduce_returns(monkeypatch, 0.8999, [])  # one image of 10,000 off, all else the same
    assert main(["reproduce", "0123abcd", "--registry", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "note: same commit, environment and CPU as recorded" in out
    assert "tolerance: 0.00 points (nothing differs from the recorded run: a seeded run repeats bit for bit)" in out
    assert "NOT reproduced: test accuracy differs by -0.01 points" in out
    assert asked == [None]
    assert main(["reproduce", "0123abcd", "--registry", str(tmp_path), "--tolerance", "0.05"]) == 0
    assert "tolerance: 0.05 points (--tolerance)" in capsys.readouterr().out and asked[-1] == pytest.approx(0.0005)


def _reproduce_returns(monkeypatch, accuracy: float, differences: list[str]) -> list:
    """Replace the retraining: ``pipeline.reproduce`` judges a run that reached ``accuracy`` against
    a recorded 0.9000, with ``differences``; returns the tolerances it was asked for."""
    from types import SimpleNamespace

    from fashion_lib import reproduce as module

    asked: list = []
    monkeypatch.setattr(module, "run_differences", lambda lineage: differences)
    run = SimpleNamespace(model_top_hash=None, metrics=lambda: {"test_accuracy": accuracy, "test_loss": 0.31})

    def fake(*args, tolerance=None, **kwargs):
        asked.append(tolerance)
        return module.judge({"test_accuracy": 0.9, "test_loss": 0.3}, run, {}, tolerance=tolerance), run

    monkeypatch.setattr(pipeline, "reproduce", fake)
    return asked
