"""The CLI in a pipeline: a reader that stops early (`| head`) ends it quietly."""

from __future__ import annotations

import subprocess
import sys

from fashion_lib import registry


def test_a_reader_that_stops_early_is_not_an_error(tmp_path):
    """`fashion packages list --json | head -1`: a closed stdout ends the command quietly (141)."""
    (tmp_path / "a.csv").write_text("label,pixel1\n1,0\n")
    reg = str(tmp_path / "registry")
    for i in range(40):  # enough output to outgrow the pipe's buffer
        registry.push(f"user/p{i:02d}", {"a.csv": tmp_path / "a.csv"}, registry=reg)
    proc = subprocess.Popen(
        [sys.executable, "-m", "fashion_lib", "packages", "list", "--registry", reg, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # the reader is gone before the first line is written
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141 and err == b""
