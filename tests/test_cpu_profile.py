"""tests/cpu_profile.py, the opt-in CPU accounting the README shows: a profiled run writes one line per
test (its own CPU and its subprocesses'), and the summary sums them per file, most CPU first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BUSY = """
import subprocess, sys

def test_spins_in_a_child():
    subprocess.run([sys.executable, "-c", "sum(i * i for i in range(3_000_000))"], check=True)

def test_idle():
    pass
"""


def test_a_profiled_run_is_summed_per_file_with_its_subprocesses(tmp_path: Path) -> None:
    (tmp_path / "test_busy.py").write_text(BUSY)
    log = tmp_path / "cpu.tsv"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests"), "FASHION_CPU_LOG": str(log)}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "cpu_profile", "-p", "no:cacheprovider", "test_busy.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    lines = [line.split("\t") for line in log.read_text().splitlines()]
    assert [(name, test) for name, test, *_ in lines] == [
        ("test_busy.py", "test_spins_in_a_child"),
        ("test_busy.py", "test_idle"),
    ]
    assert float(lines[0][3]) > 0.05 and float(lines[0][3]) > float(lines[1][3])  # the child's CPU is counted
    summary = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "cpu_profile.py"), str(log)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert summary[0] == "file\tcpu_s\town_s\tchildren_s\twall_s"
    name, cpu, own, children, _ = summary[1].split("\t")
    assert name == "test_busy.py" and float(children) > 0.05
    assert abs(float(cpu) - float(own) - float(children)) < 0.11  # each rounded to 0.1 s
