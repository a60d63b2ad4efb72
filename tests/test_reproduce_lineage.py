"""`fashion reproduce` on a version whose recorded lineage holds unusable values: one line naming
the version and the field, exit 2, before anything trains, writes or publishes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cli_support import cli, one_line

from fashion_lib import registry
from fashion_lib.config import TrainConfig

GOOD: dict[str, Any] = {
    "data": {"name": "fashion-mnist/data", "top_hash": "d" * 64, "registry": ""},
    "code": {"commit": "a" * 40, "dirty": False, "version": "0.1.0"},
    "training": {"config": TrainConfig.from_preset("quick").to_dict(), "epochs_run": 1},
    "metrics": {"test_accuracy": 0.9, "test_loss": 0.3},
}

DROP = object()


def _crafted(tmp_path: Path, part: str, change: dict[str, Any]) -> tuple[str, str]:
    """(registry, top hash) of a model version whose lineage's ``part`` is updated with ``change``
    (a key whose value is :data:`DROP` is left out)."""
    model = tmp_path / "clf.keras"
    model.write_bytes(b"weights")
    record = {**GOOD, part: {k: v for k, v in {**GOOD[part], **change}.items() if v is not DROP}}
    reg = str(tmp_path / "reg")
    return reg, registry.push("fashion-mnist/model", {"clf.keras": model}, registry=reg, meta=record)


@pytest.mark.parametrize(
    ("part", "change", "field"),
    [
        (
            "metrics",
            {"test_accuracy": DROP, "note": 1},
            "metrics.test_accuracy is missing; expected the recorded test accuracy",
        ),
        ("metrics", {"test_accuracy": "abc"}, "metrics.test_accuracy is 'abc'; expected the recorded test accuracy"),
        ("metrics", {"test_accuracy": 93.5}, "metrics.test_accuracy is 93.5; expected"),  # percent, not a fraction
        ("metrics", {"test_accuracy": True}, "metrics.test_accuracy is True; expected"),
        ("metrics", {"test_loss": "low"}, "metrics.test_loss is 'low'; expected a number"),
        ("data", {"top_hash": "zz"}, "data.top_hash is 'zz'; expected a top hash (64 hexadecimal digits)"),
        ("data", {"top_hash": "d" * 12}, f"data.top_hash is '{'d' * 12}'; expected a top hash"),  # a prefix
        ("data", {"name": "bad name"}, "data.name is 'bad name'; expected a package name 'owner/name'"),
    ],
)
def test_unusable_recorded_values_are_named_before_anything_trains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], part, change, field
) -> None:
    """Never a retrained, published model followed by `internal error: KeyError`, nor a line that
    blames the user's input for what the version recorded."""
    from fashion_lib import reproduce
    from fashion_lib.cli import main

    monkeypatch.setattr(reproduce, "train_evaluate_publish", lambda *a, **kw: pytest.fail("trained"))
    reg, top = _crafted(tmp_path, part, change)
    out = tmp_path / "out"
    assert main(["reproduce", top[:10], "--push", "--registry", reg, "--output-dir", str(out)]) == 2  # ModelError
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"fashion: error: fashion-mnist/model@{top[:12]}: its lineage's {field}")
    assert err.rstrip().endswith("it cannot be reproduced")
    assert not out.exists() and len(registry.list_versions(registry=reg, name="fashion-mnist/model")) == 1


def test_a_bad_recorded_top_hash_is_the_versions_fault_on_the_command_line(tmp_path: Path) -> None:
    reg, top = _crafted(tmp_path, "data", {"top_hash": "zz"})
    done = cli("reproduce", top[:12], "--registry", reg, "--output-dir", str(tmp_path / "out"))
    assert done.returncode == 2
    assert one_line(done) == (
        f"fashion: error: fashion-mnist/model@{top[:12]}: its lineage's data.top_hash is 'zz'; "
        "expected a top hash (64 hexadecimal digits); it cannot be reproduced"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("mangled", [{"code": "abc", "environment": ["x"]}, {"code": None}])
def test_a_mangled_code_or_environment_record_counts_as_different(mangled: dict[str, Any]) -> None:
    """The judge, after a retraining, must not crash on what it only compares."""
    from fashion_lib.reproduce import run_differences

    found = run_differences({**GOOD, **mangled})
    assert any(line.startswith("commit differs: recorded unknown") for line in found)
