"""Lineage records, and when `fashion run` may skip training."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from fashion_lib import lineage, pipeline, provenance, registry
from fashion_lib.config import TrainConfig

CLEAN = {"commit": "a" * 40, "dirty": False, "version": "0.1.0"}


def _publish(tmp_path: Path, config: TrainConfig, data_top_hash: str, code: dict) -> tuple[str, str]:
    model = tmp_path / "clf.keras"
    model.write_bytes(b"weights")
    record = lineage.build_lineage(
        data_name="fashion-mnist/data",
        data_top_hash=data_top_hash,
        registry=str(tmp_path / "reg"),
        config=config.to_dict(),
        metrics={"test_accuracy": 0.9, "test_loss": 0.3},
        started="s",
        finished="f",
        seconds=1.0,
        epochs_run=1,
    )
    record["code"] = code
    reg = str(tmp_path / "reg")
    return reg, registry.push("fashion-mnist/model", {"clf.keras": model}, registry=reg, meta=record)


def test_lineage_records_the_environment() -> None:
    env = lineage.environment_state()
    req = Path(__file__).resolve().parents[1] / "requirements.txt"
    assert env["requirements_sha256"] == hashlib.sha256(req.read_bytes()).hexdigest()
    assert env["python"].count(".") == 2 and env["numpy"]
    code = lineage.code_state()
    assert code["commit"] is None or len(code["commit"]) == 40
    model, cores = env["cpu"].rsplit(", ", 1)  # what oneDNN picks its kernels by
    assert model and cores == f"{len(os.sched_getaffinity(0))} cores"


def test_thread_settings_are_part_of_the_cpu_a_reproduction_compares(monkeypatch: pytest.MonkeyPatch) -> None:
    from fashion_lib.reproduce import run_differences

    for key in lineage.KERNEL_SETTINGS:
        monkeypatch.delenv(key, raising=False)
    recorded = {"code": lineage.code_state(), "environment": lineage.environment_state()}
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "1")
    now = lineage.environment_state()["cpu"]
    assert now == recorded["environment"]["cpu"] + ", TF_NUM_INTRAOP_THREADS=1"
    assert f"environment differs: cpu recorded {recorded['environment']['cpu']}, now {now}" in run_differences(recorded)


def test_another_cpu_is_a_difference_a_reproduction_reports() -> None:
    from fashion_lib.reproduce import run_differences

    here = {"code": lineage.code_state(), "environment": lineage.environment_state()}
    elsewhere = {**here, "environment": {**here["environment"], "cpu": "Some Other CPU, 64 cores"}}
    assert not [d for d in run_differences(here) if "environment" in d]
    assert [d for d in run_differences(elsewhere) if "environment" in d] == [
        f"environment differs: cpu recorded Some Other CPU, 64 cores, now {here['environment']['cpu']}"
    ]


def test_lineage_names_the_tensorflow_distribution(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local environments run GPU-capable `tensorflow`, the image `tensorflow-cpu`: lineage says which."""
    from importlib import metadata

    installed = {name for name in lineage.TENSORFLOW_DISTRIBUTIONS if _installed(name)}
    env = lineage.environment_state()
    assert env["tensorflow_distribution"] in installed
    assert env["tensorflow"] == metadata.version(env["tensorflow_distribution"])

    def only_cpu(name: str) -> str:
        if name == "tensorflow-cpu":
            return "2.21.0"
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(provenance.metadata, "version", only_cpu)
    env = lineage.environment_state()
    assert (env["tensorflow_distribution"], env["tensorflow"]) == ("tensorflow-cpu", "2.21.0")
    assert "tensorflow-cpu 2.21.0" in lineage.describe("m", "e" * 64, {"environment": env})


def _installed(name: str) -> bool:
    from importlib import metadata

    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def test_code_state_without_git_uses_the_build_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provenance.settings, "project_root", lambda: None)
    monkeypatch.setenv("FASHION_GIT_COMMIT", "b" * 40)
    assert lineage.code_state()["commit"] == "b" * 40


def test_describe_names_data_code_and_metrics(tmp_path: Path) -> None:
    config = TrainConfig.from_preset("quick")
    reg, top = _publish(tmp_path, config, "d" * 64, CLEAN)
    _, meta, _ = registry.read_meta("fashion-mnist/model", registry=reg)
    text = lineage.describe("fashion-mnist/model", top, meta)
    assert f"fashion-mnist/model@{top[:12]}" in text and "fashion-mnist/data@dddddddddddd" in text
    assert f"commit {'a' * 40}," in text and "test accuracy 0.9000" in text


@pytest.mark.parametrize(
    "change, expected",
    [
        ({}, True),
        ({"data": "e" * 64}, False),
        ({"config": {"epochs": 9}}, False),
        ({"dirty_now": True}, False),
        ({"recorded": {**CLEAN, "dirty": True}}, False),
        ({"recorded": {**CLEAN, "commit": "c" * 40}}, False),
    ],
)
def test_up_to_date_model_only_for_identical_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: dict, expected: bool
) -> None:
    config = TrainConfig.from_preset("quick")
    reg, top = _publish(tmp_path, config, "d" * 64, change.get("recorded", CLEAN))
    now = {**CLEAN, "dirty": change.get("dirty_now", False)}
    monkeypatch.setattr(provenance, "code_state", lambda: now)  # where up_to_date reads it
    asked = config.replace(**change.get("config", {}))
    found = pipeline.up_to_date_model(asked, change.get("data", "d" * 64), registry=reg)
    assert (found is not None and found[0] == top) == expected


def test_up_to_date_model_with_empty_registry(tmp_path: Path) -> None:
    assert pipeline.up_to_date_model(TrainConfig(), "d" * 64, registry=str(tmp_path / "none")) is None


def test_describe_shows_the_data_quality_verdict() -> None:
    from fashion_lib.quality.gate import quality_summary

    meta = {
        "quality": {
            "verdict": "fail",
            "accepted": "augmented on purpose",
            "reference": "official Fashion-MNIST",
            "checks": [{"name": "leakage train/test", "verdict": "fail"}, {"name": "drift (test)", "verdict": "pass"}],
        }
    }
    record = {"data": {"name": "d", "top_hash": "d" * 64, "quality": quality_summary(meta)}}
    text = lineage.describe("m", "f" * 64, record)
    assert (
        "quality   fail against official Fashion-MNIST; failed: leakage train/test; accepted: augmented on purpose"
    ) in text
    assert "quality   (no data-quality report recorded)" in lineage.describe("m", "f" * 64, {"data": {}})


def test_a_run_without_a_finished_time_records_none(tmp_path: Path) -> None:
    """An old or hand-edited metrics.json without ``finished``: the lineage holds none (before: the time
    it was built, so each push of the folder made another top hash), and its readers say so."""
    from fashion_lib import tables

    metrics = {"data_package": "fashion-mnist/data", "data_top_hash": "d" * 64, "started": "s", "test_accuracy": 0.9}
    record = lineage.lineage_from_metrics(metrics, {"epochs": 1})
    assert record["training"]["finished"] is None
    assert lineage.lineage_from_metrics(metrics, {"epochs": 1}) == record
    assert "trained   s .. (not recorded) (" in lineage.describe("m", "f" * 64, record)
    assert "trained   (not recorded) .. (not recorded) (" in lineage.describe("m", "f" * 64, {"training": {}})
    assert tables.lineage(record).data.loc["training.finished", "value"] == "-"
    model = tmp_path / "clf.keras"
    model.write_bytes(b"weights")
    reg = str(tmp_path / "reg")
    registry.push("fashion-mnist/model", {"clf.keras": model}, registry=reg, meta=record)
    assert registry.read_meta("fashion-mnist/model", registry=reg)[1]["training"]["finished"] is None


@pytest.mark.parametrize(
    "config, why",
    [
        ({}, "records an empty training config (training.config is {})"),
        (None, "has no usable lineage (training.config is missing)"),
        (
            {**TrainConfig.from_preset("quick").to_dict(), "epochs": "abc"},
            "its recorded training config (training.config) is invalid: epochs='abc' is invalid; "
            "expected an integer from 1 to 1000",
        ),
        (
            {**TrainConfig.from_preset("quick").to_dict(), "bogus": 1},
            "its recorded training config (training.config) is invalid: unknown setting 'bogus'",
        ),
        (
            {**TrainConfig.from_preset("quick").to_dict(), "stages": 5},
            "its recorded training config (training.config) is invalid: stages=5 is invalid; expected 1 to 3",
        ),
    ],
)
def test_reproduce_refuses_an_empty_or_invalid_recorded_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], config, why: str
) -> None:
    """Never the default recipe in its place, nor a line that reads as if the user had typed it."""
    from fashion_lib import reproduce
    from fashion_lib.cli import main

    monkeypatch.setattr(reproduce, "train_evaluate_publish", lambda *a, **kw: pytest.fail("trained"))
    model = tmp_path / "clf.keras"
    model.write_bytes(b"weights")
    training = {"started": "s", "finished": "f", "seconds": 1.0, "epochs_run": 1}
    if config is not None:  # None: a lineage without training.config
        training["config"] = config
    record = {
        "data": {"name": "fashion-mnist/data", "top_hash": "d" * 64, "registry": ""},
        "code": CLEAN,
        "training": training,
        "metrics": {"test_accuracy": 0.9},
    }
    reg = str(tmp_path / "reg")
    top = registry.push("fashion-mnist/model", {"clf.keras": model}, registry=reg, meta=record)
    assert main(["reproduce", top[:10], "--registry", reg, "--output-dir", str(tmp_path / "out")]) == 2  # ModelError
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"fashion: error: fashion-mnist/model@{top[:12]}")
    assert why in err and not (tmp_path / "out").exists()


@pytest.mark.parametrize(("epochs", "said"), [(1, "(4.2 s, 1 epoch)"), (18, "(4.2 s, 18 epochs)")])
def test_the_lineage_counts_epochs_in_words(epochs: int, said: str) -> None:
    """Before: '1 epochs'."""
    from fashion_lib.lineage import describe

    text = describe("a/b", "0" * 64, {"training": {"seconds": 4.2, "epochs_run": epochs}})
    assert said in text
