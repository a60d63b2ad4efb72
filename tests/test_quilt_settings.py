"""quilt3's settings file (``config.yml`` under XDG_DATA_HOME, else HOME's ``.local/share/Quilt``), read at
quilt3's import, unreadable (another user's home kept by ``su -m``/``sudo -E``/cron, XDG_DATA_HOME a file) or
malformed (cut short): one line naming the file, the variable that put it there and what to do, exit 2 (a bad
setting: not the registry's fault, not a bug), before a publishing command does any work. Before: the registry
blamed (exit 6, after the quality check or a whole training), "Permission denied" without a path, or an
"internal error" (exit 70)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import cli, closed_s3_env
from csv_support import fashion_csvs
from group_support import GROUP

from fashion_lib.errors import RegistryError
from fashion_lib.registry.s3_errors import s3_errors

ROOT = Path(__file__).resolve().parents[1]
FIX_FOLDER = "set XDG_DATA_HOME to a folder you can read, or unset it"
FIX_FILE = "fix it, or move it away (quilt3 then uses its defaults)"
CUT_SHORT = "is not valid YAML (line 2, column 1: expected ',' or ']', but got '<stream end>')"


def _line(path: Path, where: str, what: str, advice: str) -> str:
    return f"fashion: error: quilt3's settings file {path} ({where}) {what}; {advice}"


def _only_line(done: subprocess.CompletedProcess) -> str:
    """The one line the command wrote, nothing before it (no quality check, no training)."""
    assert done.stdout == "" and len(done.stderr.splitlines()) == 1, done.stderr
    return done.stderr.strip()


@pytest.fixture
def xdg_file(tmp_path: Path) -> Path:
    """A file given as XDG_DATA_HOME: quilt3's settings would be ``FILE/Quilt/config.yml`` (Not a directory)."""
    path = tmp_path / "a-file"
    path.write_text("not a folder\n")
    return path


def test_a_data_push_stops_before_its_checks_and_writes_nothing(tmp_path: Path, xdg_file: Path) -> None:
    csvs, reg = fashion_csvs(tmp_path / "csv", 1), tmp_path / "reg"
    done = cli(
        *("data", "push", "--train", str(csvs["train"]), "--test", str(csvs["test"]), "--accept", "random"),
        *("--registry", str(reg)),
        XDG_DATA_HOME=str(xdg_file),
        FASHION_HOME=str(tmp_path / "home"),
    )
    where = f"from XDG_DATA_HOME={xdg_file}"
    config = xdg_file / "Quilt" / "config.yml"
    assert _only_line(done) == _line(config, where, "cannot be read (Not a directory)", FIX_FOLDER)
    assert done.returncode == 2
    assert not reg.exists()  # before: objects stored, then the registry blamed (exit 2 or 6)


def test_train_push_stops_before_training(tmp_path: Path, xdg_file: Path) -> None:
    csvs, reg, home, out = fashion_csvs(tmp_path / "csv", 2), tmp_path / "reg", tmp_path / "home", tmp_path / "run"
    pushed = cli(
        *("data", "push", "--train", str(csvs["train"]), "--test", str(csvs["test"]), "--accept", "random"),
        *("--registry", str(reg)),
        FASHION_HOME=str(home),
    )
    assert pushed.returncode == 0, pushed.stderr
    done = cli(
        *(
            "train",
            "--preset",
            "quick",
            "--epochs",
            "1",
            "--set",
            "validation_size=10",
            "--push",
            "--registry",
            str(reg),
            "--output-dir",
            str(out),
        ),
        XDG_DATA_HOME=str(xdg_file),
        FASHION_HOME=str(home),
    )
    where = f"from XDG_DATA_HOME={xdg_file}"
    config = xdg_file / "Quilt" / "config.yml"
    assert _only_line(done) == _line(config, where, "cannot be read (Not a directory)", FIX_FOLDER)
    assert done.returncode == 2
    assert not out.exists()  # nothing trained


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("a: [unclosed\n", CUT_SHORT),
        ("", "holds no settings (quilt3 reads a mapping of names to values there)"),  # cut off at 0 bytes
    ],
    ids=["cut-short", "empty"],
)
@pytest.mark.parametrize("command", ["push", "s3"])
def test_a_malformed_settings_file_is_named_not_called_a_bug(
    tmp_path: Path, text: str, what: str, command: str
) -> None:
    data, home = tmp_path / "data", tmp_path / "home"
    config = data / "Quilt" / "config.yml"
    config.parent.mkdir(parents=True)
    config.write_text(text)
    if command == "s3":
        done = cli("packages", "list", "--registry", "s3://bucket", **closed_s3_env(home), XDG_DATA_HOME=str(data))
    else:
        csvs = fashion_csvs(tmp_path / "csv", 3)
        done = cli(
            *("data", "push", "--train", str(csvs["train"]), "--test", str(csvs["test"]), "--accept", "random"),
            *("--registry", str(tmp_path / "reg")),
            XDG_DATA_HOME=str(data),
            FASHION_HOME=str(home),
        )
    assert _only_line(done) == _line(config, f"from XDG_DATA_HOME={data}", what, FIX_FILE)
    assert done.returncode == 2  # before: exit 70, "internal error ... (a bug)"


@pytest.fixture
def others_home() -> Iterator[Path]:
    """A home holding quilt3's settings file that the test's user can't read: as root, a ``0600`` file of root's
    read by ``nobody`` (:func:`_as_other`); as anyone else, a ``0000`` file of their own."""
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("running as root, and setpriv (to run as another user) is not installed")
    folder = Path(tempfile.mkdtemp(prefix="fashion-others-home-"))
    folder.chmod(0o755)
    config = folder / ".local" / "share" / "Quilt" / "config.yml"
    config.parent.mkdir(parents=True)
    for path in (config.parent, config.parent.parent, config.parent.parent.parent):
        path.chmod(0o755)
    config.write_text("telemetry_disabled: true\n")
    config.chmod(0o600 if os.geteuid() == 0 else 0)
    (folder / "fashion").mkdir(mode=0o777)
    (folder / "fashion").chmod(0o777)
    yield folder
    config.chmod(0o600)
    shutil.rmtree(folder)


def _as_other(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``python -m fashion_lib ARGS`` as a user who can't read the file (as root: nobody, via setpriv)."""
    other = ["setpriv", "--reuid=65534", f"--regid={GROUP}", "--clear-groups"] if os.geteuid() == 0 else []
    environ = {k: v for k, v in os.environ.items() if k != "XDG_DATA_HOME"}  # HOME alone says where
    done = subprocess.run(
        [*other, sys.executable, "-m", "fashion_lib", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(environ, **env),
        cwd=ROOT,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_a_home_whose_settings_file_is_unreadable_is_named_for_s3(others_home: Path) -> None:
    env = dict(closed_s3_env(others_home / "fashion"), HOME=str(others_home))
    done = _as_other("packages", "list", "--registry", "s3://bucket", env=env)
    config = others_home / ".local" / "share" / "Quilt" / "config.yml"
    advice = "set HOME to your own home, or XDG_DATA_HOME to a folder you can read"
    where = f"from HOME={others_home}"
    assert _only_line(done) == _line(config, where, "cannot be read (Permission denied)", advice)
    assert done.returncode == 2  # before: "listing packages: s3://bucket (endpoint ...): Permission denied"


def test_quilt3_is_not_kept_half_imported_and_loads_once_the_setting_is_fixed(tmp_path: Path, xdg_file: Path) -> None:
    code = (
        "import os, sys\n"
        "from fashion_lib.errors import ConfigError\n"
        "from fashion_lib.registry.quilt import quilt\n"
        "try:\n"
        "    quilt()\n"
        "except ConfigError as exc:\n"
        "    print(type(exc).__name__, any(m.startswith('quilt3') for m in sys.modules))\n"
        f"os.environ['XDG_DATA_HOME'] = {str(tmp_path / 'data')!r}\n"
        "print(quilt().Package.__name__)\n"
    )
    env = dict(os.environ, XDG_DATA_HOME=str(xdg_file))
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert done.stdout.splitlines() == ["ConfigError False", "Package"], done.stderr


def test_an_os_error_under_s3_names_its_file() -> None:
    with pytest.raises(RegistryError) as raised, s3_errors("listing packages", "s3://bucket"):
        raise PermissionError(13, "Permission denied", "/root/.aws/ca.pem")
    assert str(raised.value) == "listing packages: s3://bucket: Permission denied: /root/.aws/ca.pem"


def test_a_settings_file_quilt3_would_write_again_in_a_folder_not_yours_is_named(others_home: Path) -> None:
    """``telemetry_disabled:`` without a value: quilt3's import writes the file again (renaming a backup beside it).
    Readable but in a folder this user can't write: before, "listing packages: s3://bucket (...): Permission
    denied: ...config.yml", the registry blamed (review 100)."""
    config = others_home / ".local" / "share" / "Quilt" / "config.yml"
    config.write_text("telemetry_disabled:\n")
    config.chmod(0o644)
    config.parent.chmod(0o755 if os.geteuid() == 0 else 0o555)
    env = dict(closed_s3_env(others_home / "fashion"), HOME=str(others_home))
    done = _as_other("packages", "list", "--registry", "s3://bucket", env=env)
    config.parent.chmod(0o755)
    assert _only_line(done) == (
        f"fashion: error: quilt3's settings file {config} (from HOME={others_home}) holds telemetry_disabled without "
        "a value, so quilt3 writes it again at import, and its folder is not writable by you; set "
        "telemetry_disabled to true or false there, or XDG_DATA_HOME to a folder of your own"
    )
    assert done.returncode == 2
