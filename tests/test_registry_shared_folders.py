"""A local registry a group shares (its folder ``chgrp``'d, ``chmod 2775``) keeps working for every member: what
the registry makes inside it later (package folders, pointers, manifests, objects, its temporary files) is made
for the group whatever the umask: folders ``g+rwx`` (setgid, as their parent), files ``g+r`` only, since no file
is rewritten in place (review 91: ``g+w`` files let any member change a published object); the writers' lock
file alone is ``g+rw``. A folder not shared keeps the umask's modes.

Two real users: root (umask 022) and ``nobody`` in the registry's group only as a supplementary group
(``setpriv``), each pushing through the real CLI."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from fashion_lib import registry, settings
from fashion_lib.csvio import write_csv
from fashion_lib.fsutil import make_folders, make_public, shared_folder
from fashion_lib.idx import load_images, load_labels
from fashion_lib.registry.local import LOCK, PUSH_LOCK
from fashion_lib.sources import find_in

ROOT = Path(__file__).resolve().parents[1]
GROUP = 4243  # a group only the test's registry belongs to (no name needed)
MEMBER = ["setpriv", "--reuid=65534", "--regid=65534", f"--groups={GROUP}"]  # nobody, the group a supplementary one
DATA, MODEL = "team/data", "team/model"
PUSH_MODEL = "import sys; from pathlib import Path; from fashion_lib import registry; " + (
    "registry.push(sys.argv[1], {'clf.keras': Path(sys.argv[3])}, registry=sys.argv[2]); print('pushed')"
)
RAW = find_in(settings.DEBIAN_DATASET_DIR)


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder (``0755``) holding an empty registry folder a group shares (``2775``, group :data:`GROUP`), three
    pairs of CSVs (``a``, ``b``, ``c``), two models and a home for each user."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv, to push as a second user")
    if RAW is None:
        pytest.skip("Debian package dataset-fashion-mnist is not installed")
    folder = Path(tempfile.mkdtemp(prefix="fashion-test-group-"))
    folder.chmod(0o755)
    images, labels = load_images(RAW["t10k-images-idx3-ubyte"]), load_labels(RAW["t10k-labels-idx1-ubyte"])
    for n, pair in enumerate("abc"):
        for part, rows in (
            ("train", slice(n * 2000, (n + 1) * 2000)),
            ("test", slice(6000 + n * 1000, 7000 + n * 1000)),
        ):
            write_csv(images[rows], labels[rows], folder / f"{pair}_{part}.csv")
    for who in ("a", "b"):
        (folder / f"{who}.keras").write_bytes(f"{who}'s model".encode())
        (folder / f"home-{who}").mkdir(mode=0o777)
        (folder / f"home-{who}").chmod(0o777)
    (folder / "registry").mkdir()
    os.chown(folder / "registry", -1, GROUP)
    (folder / "registry").chmod(0o2775)
    yield folder
    shutil.rmtree(folder)


def _run(folder: Path, who: str, *args: str) -> subprocess.CompletedProcess:
    """``python ARGS`` as the first member (root) or the second (nobody, in :data:`GROUP`), umask 022."""
    home = folder / f"home-{who}"
    done = subprocess.run(
        [*(MEMBER if who == "b" else []), sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=300,
        umask=0o022,
        cwd=ROOT,
        env=dict(os.environ, FASHION_HOME=str(home), HOME=str(home), XDG_DATA_HOME=str(home), XDG_CACHE_HOME=str(home)),
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def _push(folder: Path, who: str, pair: str) -> None:
    """``fashion data push`` of CSV pair ``pair`` as ``who``, then (first pushes) a model as ``who``."""
    reg = str(folder / "registry")
    csvs = ("--train", str(folder / f"{pair}_train.csv"), "--test", str(folder / f"{pair}_test.csv"))
    done = _run(folder, who, "-m", "fashion_lib", "data", "push", "--name", DATA, "--registry", reg, *csvs)
    assert done.returncode == 0 and "Published" in done.stdout, (who, done.stdout, done.stderr)
    if pair != "c":
        done = _run(folder, who, "-c", PUSH_MODEL, MODEL, reg, str(folder / f"{who}.keras"))
        assert done.returncode == 0 and "pushed" in done.stdout, (who, done.stdout, done.stderr)


def test_a_second_member_adds_versions_to_packages_the_first_made(shared: Path) -> None:
    """Before: the second member's push ended in exit 6, 'local registry ... is not writable or readable by you
    (Permission denied: .../objects)', the folders the first member's push made being 2755."""
    reg = shared / "registry"
    _push(shared, "a", "a")
    _push(shared, "b", "b")  # a new version of each package the first member made
    _push(shared, "a", "c")  # and the first member again, over the second's `latest`
    data = registry.list_versions(name=DATA, registry=str(reg))
    assert len(data) == 3 and len(registry.list_versions(name=MODEL, registry=str(reg))) == 2
    for who in ("b", "a"):
        done = _run(shared, who, "-m", "fashion_lib", "packages", "verify", "--registry", str(reg))
        assert done.returncode == 0, (who, done.stdout, done.stderr)
    for path in [reg, *reg.rglob("*")]:
        info = path.lstat()
        assert info.st_gid == GROUP, path
        lock = path.name in (LOCK, PUSH_LOCK)
        want = stat.S_ISGID | 0o070 if path.is_dir() else 0o060 if lock else 0o040
        assert info.st_mode & want == want, f"{path}: {stat.filemode(info.st_mode)}"
        assert path.is_dir() or lock or not info.st_mode & stat.S_IWGRP, f"{path}: {stat.filemode(info.st_mode)}"


def test_only_a_group_writable_setgid_folder_is_shared(tmp_path: Path) -> None:
    """In a 2775 folder, folders made are 2770 and files 0640 under umask 077; in any other, the umask's modes."""
    before = os.umask(0o077)
    try:
        for mode, shared in ((0o2775, True), (0o775, False), (0o2755, False), (0o755, False)):
            root = tmp_path / f"{mode:o}"
            root.mkdir()
            root.chmod(mode)
            assert shared_folder(root) is shared, f"{mode:o}"
            make_folders(root / "x" / "y", group=shared_folder(root))
            (root / "x" / "y" / "f").touch(mode=0o600)
            make_public(root / "x" / "y" / "f", group=shared_folder(root))
            modes = [stat.S_IMODE(p.stat().st_mode) for p in (root / "x", root / "x" / "y", root / "x" / "y" / "f")]
            assert modes == ([0o2770, 0o2770, 0o640] if shared else [modes[0], modes[0], 0o600]), modes
            assert modes[0] & 0o777 == 0o700 or shared
        assert not shared_folder(tmp_path / "missing")
    finally:
        os.umask(before)
