"""A config key given by its own option and by ``--set`` too is a usage error naming both: before,
the option silently won (``--epochs 1 --set epochs=1000`` trained one epoch, ``--set limit=-5`` was
never checked, and ``fashion run`` then said "Up to date")."""

from __future__ import annotations

from pathlib import Path

import pytest

from fashion_lib import pipeline
from fashion_lib.cli import main
from fashion_lib.errors import ConfigError


@pytest.mark.parametrize(
    ("options", "assignment", "said"),
    [
        ({"epochs": 1}, "epochs=1000", "--epochs 1 and --set epochs=1000 both set epochs; give one"),
        ({"limit": 2000}, "limit=-5", "--limit 2000 and --set limit=-5 both set limit; give one"),
        ({"limit": 0}, "limit=100", "--limit 0 and --set limit=100 both set limit; give one"),
        ({"batch_size": 64}, "batch_size=32", "--batch-size 64 and --set batch_size=32 both set batch_size; give one"),
    ],
)
def test_an_option_and_a_set_for_the_same_key_are_refused(options: dict, assignment: str, said: str) -> None:
    with pytest.raises(ConfigError) as refused:
        pipeline.config_from_parameters("quick", assignments=[assignment], **options)
    assert str(refused.value) == said and refused.value.exit_code == 2


def test_options_and_sets_for_different_keys_still_combine() -> None:
    config = pipeline.config_from_parameters("quick", assignments=["dropout=0.3", "limit=2000"], epochs=2, seed=None)
    assert (config.epochs, config.dropout, config.limit) == (2, 0.3, 2000)


@pytest.mark.parametrize("command", ["train", "run"])
def test_the_command_says_one_line_and_exits_2_before_anything_is_made(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FASHION_HOME", str(tmp_path))
    monkeypatch.setenv("FASHION_REGISTRY", "")
    monkeypatch.setenv("FASHION_OUTPUT_DIR", "")
    assert main([command, "--preset", "quick", "--epochs", "1", "--set", "epochs=1000"]) == 2
    captured = capsys.readouterr()
    assert (
        captured.err.splitlines() == ["fashion: error: --epochs 1 and --set epochs=1000 both set epochs; give one"]
        and captured.out == ""
    )
    assert list(tmp_path.iterdir()) == []
