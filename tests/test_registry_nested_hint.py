"""The hint that a registry lies one folder down (3efbe8a) survives a folder beside it that can't be looked into (a
root-owned ``lost+found``, on which Python 3.11's ``Path.is_dir`` raises), and shell-quotes the path it suggests.
As root, the listing runs as another user (``setpriv``), whom modes bind."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from cli_support import cli, one_line
from group_support import as_member
from test_registry_lock_readonly import CLI

from fashion_lib import registry

MODEL = "fashion-mnist/model"


def _nested(folder: Path, inner: str) -> tuple[Path, Path]:
    """``existing`` (no package of its own) and ``existing/INNER``, a registry with one version."""
    (folder / "clf.keras").write_bytes(b"published model bytes")
    registry.push(MODEL, {"clf.keras": folder / "clf.keras"}, registry=str(folder / "existing" / inner))
    return folder / "existing", folder / "existing" / inner


def test_a_folder_beside_the_registry_that_cant_be_looked_into_keeps_the_hint() -> None:
    """Before: "0 version(s)" and no note at all: the unreadable folder's error dropped the whole hint."""
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("running as root, and setpriv (to run as another user) is not installed")
    folder = Path(tempfile.mkdtemp(prefix="fashion-test-nested-"))
    try:
        outer, inner = _nested(folder, "reg0")
        (outer / "lost+found").mkdir()
        (outer / "lost+found").chmod(0o700 if os.geteuid() == 0 else 0o000)
        for path in [folder, *folder.rglob("*")]:
            if path.is_dir() and path.name != "lost+found":
                path.chmod(0o755)
        (folder / "home").mkdir(mode=0o777)
        (folder / "home").chmod(0o777)
        done = as_member("-c", CLI, "packages", "list", "--registry", str(outer), home=folder / "home")
        assert done.returncode == 0 and "0 version(s)" in done.stdout, (done.stdout, done.stderr)
        assert done.stderr.strip().endswith(f"{inner} inside it is a registry: did you mean --registry {inner}?")
    finally:
        (folder / "existing" / "lost+found").chmod(0o700)
        shutil.rmtree(folder)


def test_the_suggested_registry_is_shell_quoted(tmp_path: Path) -> None:
    """Before: "did you mean --registry .../existing/my reg?", two words to a shell."""
    outer, inner = _nested(tmp_path, "my reg")
    done = cli("packages", "list", "--registry", str(outer))
    assert one_line(done).endswith(f"inside it is a registry: did you mean --registry '{inner}'?"), done.stderr
    done = cli("model", "fetch", "--dest", str(tmp_path / "out"), FASHION_REGISTRY=str(outer))
    assert done.returncode == 4 and f"did you mean FASHION_REGISTRY='{inner}'?" in one_line(done), done
