"""``fashion model push RUN_DIR`` where RUN_DIR is not a folder names RUN_DIR, not a file inside it."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import cli, one_line

EXPECTED = "expected the folder of a finished training run"


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda p: p / "nonexistent", "no such folder"),
        (lambda p: p / "missing-parent" / "run", "no such folder"),
        (lambda p: (p / "clf.keras").write_bytes(b"x") and p / "clf.keras", "is a file, not a folder"),
        (lambda p: Path("/dev/null"), "is not a folder"),
    ],
    ids=["missing", "missing-parent", "file", "dev-null"],
)
def test_a_run_dir_that_is_not_a_folder_is_named(tmp_path, make, why):
    run = make(tmp_path)
    reg = tmp_path / "registry"
    done = cli("model", "push", str(run), "--registry", str(reg), FASHION_HOME=str(tmp_path / "home"))
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert one_line(done) == f"fashion: error: run folder {run}: {why}; {EXPECTED}"
    assert not reg.exists()
