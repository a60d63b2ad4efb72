"""A local registry's package folders are listed as they are read: one that can't be read is the
access-denied error (exit 6) naming it, never a package that is "not there" (the answer that makes
``fashion run`` prepare or train anew); a package folder that is a link elsewhere is listed as it
is fetched. Real folders; as root, the commands run as another user (``setpriv``), whom ``chmod`` binds."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import cli

from fashion_lib import registry
from fashion_lib.registry.base import POINTERS

MODEL = "fashion-mnist/model"
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def _publish(reg: Path, src: Path) -> None:
    src.mkdir()
    (src / "clf.keras").write_bytes(b"published model bytes")
    (src / "metrics.json").write_text('{"test_accuracy": 0.9}')
    registry.push(MODEL, {"clf.keras": src / "clf.keras", "metrics.json": src / "metrics.json"}, registry=str(reg))


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder another user may enter (pytest's own are private to root), holding a registry and a home."""
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("running as root, and setpriv (to run as another user) is not installed")
    folder = Path(tempfile.mkdtemp(prefix="fashion-test-listing-"))
    folder.chmod(0o755)
    _publish(folder / "registry", folder / "src")
    (folder / "home").mkdir(mode=0o777)
    (folder / "home").chmod(0o777)
    yield folder
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(folder)


def _as_another_user(*args: str, home: Path) -> subprocess.CompletedProcess:
    """``fashion ARGS`` as a user who owns nothing in the registry (root's ``chmod`` binds no one)."""
    done = subprocess.run(
        [*(NOBODY if os.geteuid() == 0 else []), sys.executable, "-m", "fashion_lib", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, FASHION_HOME=str(home)),
        cwd=Path(__file__).resolve().parents[1],
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


@pytest.mark.parametrize(
    ("folder", "mode"),
    [(POINTERS, 0o300), (f"{POINTERS}/{MODEL}", 0o311)],  # unreadable; unreadable but enterable
    ids=["named_packages", "package"],
)
def test_an_unreadable_package_folder_is_access_denied_naming_it(shared: Path, folder: str, mode: int) -> None:
    """Before: 'packages list' printed "0 version(s)" or left the model out (exit 0), 'verify' said the
    pointers were lost (exit 3) or "no problems", 'model fetch' said the package "is not in" (exit 4)."""
    reg = shared / "registry"
    (reg / folder).chmod(mode)
    for command in (["packages", "list"], ["packages", "verify"], ["model", "fetch", "--dest", str(shared / "home/d")]):
        done = _as_another_user(*command, "--registry", str(reg), home=shared / "home")
        lines = [line for line in done.stderr.splitlines() if not line.startswith("checking ")]
        assert done.returncode == 6 and len(lines) == 1, (command, done.stdout, done.stderr)
        assert "is not writable or readable by you" in lines[0] and f": {reg / folder})" in lines[0], lines[0]


def test_a_package_folder_linked_elsewhere_is_listed_as_it_is_fetched(tmp_path: Path) -> None:
    """Before: 'packages list' said "0 version(s)" and 'verify' that the pointers were lost, yet fetch worked."""
    reg = tmp_path / "registry"
    _publish(reg, tmp_path / "src")
    (reg / POINTERS / "fashion-mnist").rename(tmp_path / "elsewhere")
    (reg / POINTERS / "fashion-mnist").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "elsewhere" / "loop").symlink_to("..")  # a loop of links is walked once, not for ever
    versions = registry.list_versions(registry=str(reg))
    assert [v.name for v in versions] == [MODEL]
    assert registry.verify(registry=str(reg)).problems == []
    listed = cli("packages", "list", "--registry", str(reg))
    assert listed.returncode == 0 and "1 version(s)" in listed.stdout, listed
    fetched = registry.fetch(MODEL, tmp_path / "out", registry=str(reg))
    assert fetched.top_hash == versions[0].top_hash
