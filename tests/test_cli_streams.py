"""The CLI's standard output closed by the shell (``>&-``) or on a full disk (``> /dev/full``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fashion_lib import registry
from fashion_lib.settings import TEST_CSV, TRAIN_CSV

NAME = "user/p"


@pytest.fixture(scope="module")
def local_registry(tmp_path_factory) -> str:
    """A local registry holding 40 packages: `packages list --json` writes more than a pipe's buffer."""
    folder = tmp_path_factory.mktemp("streams")
    (folder / "a.csv").write_text("label,pixel1\n1,0\n")
    reg = str(folder / "registry")
    for i in range(40):
        registry.push(f"{NAME}{i:02d}", {TRAIN_CSV: folder / "a.csv", TEST_CSV: folder / "a.csv"}, registry=reg)
    return reg


def fashion(*args: str, stdout=None, close_stdout: bool = False) -> subprocess.CompletedProcess:
    """``python -m fashion_lib ARGS``, its stdout closed (as ``>&-`` leaves it) or sent to ``stdout``."""
    return subprocess.run(
        [sys.executable, "-m", "fashion_lib", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        preexec_fn=(lambda: os.close(1)) if close_stdout else None,
    )


def test_a_closed_stdout_drops_the_results_as_print_does(local_registry):
    """Before: exit 70, "AttributeError: 'NoneType' object has no attribute 'flush'"."""
    done = fashion("packages", "list", "--registry", local_registry, "--json", close_stdout=True)
    assert (done.returncode, done.stderr) == (0, "")


def test_a_fetch_with_stdout_closed_fetches(local_registry, tmp_path):
    done = fashion(
        "data", "fetch", "--registry", local_registry, "--name", f"{NAME}00", "--dest", str(tmp_path / "d"),
        close_stdout=True,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert (tmp_path / "d" / TRAIN_CSV).read_text() == "label,pixel1\n1,0\n"
    assert [p.name for p in tmp_path.iterdir()] == ["d"]  # no stray file took the closed stdout's number


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
@pytest.mark.parametrize("json", [False, True], ids=["at-the-end", "mid-command"])
def test_a_full_disk_under_stdout_names_the_standard_output(local_registry, json):
    """Before: "cannot use a file: the disk is full". The JSON outgrows the buffer and fails inside
    the command, the text only in the final flush."""
    with open("/dev/full", "w") as full:
        done = fashion("packages", "list", "--registry", local_registry, *(["--json"] if json else []), stdout=full)
    assert done.returncode == 2, done.stderr
    assert done.stderr == "fashion: error: cannot write to standard output: the disk is full\n"
