"""benchmarks/train_bench.py --replot: a file it can't draw from is one usage error, not a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "train_bench.py"


def replot(path: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--replot", str(path), "--plot", str(tmp_path / "plot.png")],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("damage", ["no points", "points not pairs", "missing file"])
def test_replot_rejects_a_file_it_cannot_draw(damage: str, tmp_path: Path) -> None:
    rows = json.loads((ROOT / "docs" / "accuracy_vs_time.json").read_text())
    if damage == "no points":
        del rows[1]["points"]
    elif damage == "points not pairs":
        rows[2]["points"] = [1.0, 2.0]
    path = tmp_path / "rows.json"
    if damage != "missing file":
        path.write_text(json.dumps(rows))
    result = replot(path, tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and f"--replot {path}: not a --json file" in result.stderr
    assert not (tmp_path / "plot.png").exists()


def test_replot_draws_from_the_committed_figures(tmp_path: Path) -> None:
    result = replot(ROOT / "docs" / "accuracy_vs_time.json", tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "plot.png").read_bytes().startswith(b"\x89PNG")
