"""``fashion lineage`` on another machine: the data's registry is shown as the publishing machine
recorded it (an absolute path or a URL), said to be that machine's, and a recorded folder that is
not here is named as such, instead of reading like a folder of this machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from fashion_lib import registry
from fashion_lib.cli import main
from fashion_lib.lineage import build_lineage

MODEL = "fashion-mnist/model"


def _publish(reg: Path, recorded: str, tmp_path: Path) -> None:
    """A model package in ``reg`` whose lineage records ``recorded`` as its data's registry."""
    (tmp_path / "clf.keras").write_bytes(b"weights")
    record = build_lineage(
        data_name="fashion-mnist/data",
        data_top_hash="d" * 64,
        registry=recorded,
        config={"epochs": 1},
        metrics={"test_accuracy": 0.9, "test_loss": 0.3},
        started="2026-01-01T00:00:00+00:00",
        finished="2026-01-01T00:01:00+00:00",
        seconds=60.0,
        epochs_run=1,
    )
    registry.push(MODEL, {"clf.keras": tmp_path / "clf.keras"}, registry=str(reg), meta=record)


def _lineage(reg: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["lineage", "--registry", str(reg)]) == 0
    return capsys.readouterr().out


def test_a_recorded_folder_that_is_not_here_is_said_to_be_the_publishing_machines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The first machine published from ``<here>/first-machine/registry``; this one has no such folder.
    Before, the line read ``in ./first-machine/registry``, like a folder under the current one."""
    monkeypatch.chdir(tmp_path)
    recorded = str(tmp_path / "first-machine" / "registry")
    _publish(tmp_path / "copy", recorded, tmp_path)
    out = _lineage(tmp_path / "copy", capsys)
    assert f"registry  as recorded on the publishing machine: {recorded} (no such folder on this machine)\n" in out
    assert "./first-machine" not in out
    assert "data      fashion-mnist/data@dddddddddddd\n" in out


def test_a_recorded_folder_that_exists_here_is_said_to_be_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    reg = tmp_path / "registry"
    _publish(reg, str(reg), tmp_path)
    out = _lineage(reg, capsys)
    # shown as this machine shows a path (a committed notebook names no machine's folders), said to be here
    assert "registry  ./registry (as recorded when published; this machine has that folder)\n" in out


@pytest.mark.parametrize(
    "recorded, shown",
    [
        ("s3://fashion-team", "as recorded on the publishing machine: s3://fashion-team\n"),
        ("registry", "as recorded on the publishing machine: registry (a relative path: from the folder it was"),
        ("", "(none recorded)\n"),
    ],
)
def test_a_url_a_relative_path_or_nothing_recorded(
    recorded: str,
    shown: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "registry").mkdir()  # a relative path that happens to exist here is still not claimed as this one
    _publish(tmp_path / "copy", recorded, tmp_path)
    assert f"registry  {shown}" in _lineage(tmp_path / "copy", capsys)


def test_a_recorded_folder_this_user_may_not_reach_is_not_said_to_be_missing() -> None:
    """A folder on the recorded path that ``nobody`` may not search: before, "no such folder on this machine"."""
    import os
    import shutil
    import subprocess
    import sys
    import tempfile

    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv, to ask as another user")
    base = Path(tempfile.mkdtemp(prefix="fashion-reach-"))  # pytest's own folders are closed to others
    base.chmod(0o755)
    closed = base / "closed"
    (closed / "registry").mkdir(parents=True)
    closed.chmod(0o700)
    code = "import sys; from fashion_lib.lineage import recorded_registry; print(recorded_registry(sys.argv[1]))"
    said = {}
    for where in (closed / "registry", base / "gone" / "registry"):
        done = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", code, str(where)],
            capture_output=True,
            text=True,
            cwd="/",
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        )
        assert done.returncode == 0, done.stderr
        said[where.parent.name] = done.stdout.strip()
    shutil.rmtree(base)
    assert said["closed"].endswith("(it may be on this machine: a folder on its way is closed to you)")
    assert said["gone"].endswith("(no such folder on this machine)")
