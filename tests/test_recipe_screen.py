"""benchmarks/recipe_screen.py: its test-time views are the shipped file's, its table is the one docs/accuracy-experiments.md quotes."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "recipe_screen.py"
RESULTS = ROOT / "docs" / "recipe_screen.jsonl"


@pytest.fixture(scope="module")
def screen():
    spec = importlib.util.spec_from_file_location("recipe_screen", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_screen_views_are_the_shipped_models_views(screen) -> None:
    """Averaging the trunk over the screen's numpy views gives what the shipped file predicts."""
    from fashion_lib.config import TrainConfig
    from fashion_lib.model import build_model, export_model, tta_views

    config = TrainConfig.from_preset("quick", tta_shift=2)
    trunk = build_model(config)  # untrained: any fixed function of the pixels will do
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (16, 28, 28), dtype=np.uint8)
    images[:, :4, :] = 0  # structure the shifts can't hide
    images[:, :, -6:] = 255
    shipped = export_model(trunk, config).predict(images, verbose=0)
    views = tta_views(config)
    assert len(views) == 10 and any(dy for _, dy, _ in views) and any(dx for _, _, dx in views)
    by_hand = np.mean([trunk.predict(screen.shifted(images, *v), verbose=0) for v in views], axis=0)
    np.testing.assert_allclose(shipped, by_hand, atol=1e-5)
    unshifted = trunk.predict(images, verbose=0)
    assert np.abs(shipped - unshifted).max() > 1e-4  # the views change the answer: the check can fail


def test_summary_ranks_candidates_by_mean_test_accuracy(screen) -> None:
    rows = [
        {"tag": "base", "seed": s, "val_tta10": 0.94, "test_single": 0.93, "test_tta10": t}
        for s, t in ((42, 0.935), (1, 0.937), (2, 0.939))
    ] + [{"tag": "vgg4", "seed": 42, "val_tta10": 0.95, "test_single": 0.94, "test_tta10": 0.945}]
    table = screen.summary(rows).splitlines()
    assert table[2].startswith("| base | the v2 recipe, then the default | 3 | 94.00% | 93.00% | **93.70%** |")
    assert "93.50% / 93.70% / 93.90%" in table[2]
    assert table[3].startswith("| vgg4 |") and table[-1] == table[3]


def test_committed_results_cover_each_candidate_with_three_seeds() -> None:
    rows = [json.loads(line) for line in RESULTS.read_text().splitlines()]
    seeds: dict[str, set[int]] = {}
    for row in rows:
        seeds.setdefault(row["tag"], set()).add(row["seed"])
        assert 0.85 < row["test_tta10"] < 1 and 0.85 < row["val_tta10"] < 1
    full = [tag for tag, s in seeds.items() if s == {42, 1, 2}]
    assert {"base", "vgg4_e30e8"} <= set(full) and len(full) >= 10


def test_a_foreign_file_is_one_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("not json\n")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--summary", str(bad)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and f"{bad}: not a recipe-screen results file" in result.stderr
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--run", str(tmp_path / "x.jsonl")],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2 and "KERAS_BACKEND=jax" in result.stderr


def test_seeds_that_are_not_integers_are_one_usage_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--run", str(tmp_path / "x.jsonl"), "--seeds", "42,one"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--seeds '42,one': expected comma-separated integers, e.g. 42,1,2" in result.stderr


def test_the_candidates_change_the_v2_base_and_today_s_default_is_one_of_them(screen) -> None:
    """The committed results were screened against v2 (the default then); the default since issue 10 is a tag."""
    from fashion_lib.config import TrainConfig

    overrides = screen.CANDIDATES["default"][1]
    assert TrainConfig.from_preset(screen.BASE, **overrides) == TrainConfig().replace(precision="mixed_bfloat16")
    assert TrainConfig.from_preset(screen.BASE) == TrainConfig.from_preset("v2")
