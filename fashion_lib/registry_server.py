"""``make registry-server``: a team registry to try, SeaweedFS S3 on this machine.

    python -m fashion_lib.registry_server [--port 8333] [--folder DIR] [--bucket fashion-team]

Serves S3 on ``127.0.0.1:PORT`` (and uses PORT+1..PORT+3 and PORT+10000..PORT+10003
internally) with its data and keys in a persistent folder (default
``<home>/registry-server``), creates a versioned bucket on first start, and prints the
variables a team member exports to publish and fetch there. Three identities are made
once, with random keys, and kept in ``identities.json`` (mode 0600): ``team`` reads and
writes, ``reader`` only reads, ``admin`` only creates the bucket. Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import secrets
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from . import settings
from .errors import ConfigError, FashionError, RegistryError
from .registry.s3_errors import code_of
from .seaweedfs import ADMIN, GRPC_OFFSET, PORTS, READ_ONLY, READ_WRITE, Identity, SeaweedServer, read_identities

DEFAULT_PORT = 8333
DEFAULT_BUCKET = "fashion-team"


def default_folder() -> Path:
    return settings.home() / "registry-server"


def identities(folder: Path) -> list[Identity]:
    """The server's identities: read from the folder, or made with fresh random keys."""
    path = folder / "identities.json"
    if path.exists():
        return read_identities(path)
    return [
        Identity(name, f"{name.upper()}{secrets.token_hex(6).upper()}", secrets.token_urlsafe(30), actions)
        for name, actions in (("admin", ADMIN), ("team", READ_WRITE), ("reader", READ_ONLY))
    ]


def ensure_bucket(server: SeaweedServer, bucket: str) -> bool:
    """Create the versioned team bucket unless it is there; True if it was created."""
    import botocore.exceptions

    client = server.client("admin")
    try:
        client.head_bucket(Bucket=bucket)
        return False
    except botocore.exceptions.ClientError as exc:
        if code_of(exc) not in ("404", "NoSuchBucket"):
            raise RegistryError(f"cannot check bucket {bucket} on {server.endpoint}: {exc}") from None
    server.create_bucket(bucket, versioned=True, identity="admin")
    return True


def exports(server: SeaweedServer, bucket: str, identity: str) -> list[str]:
    env = {"FASHION_REGISTRY": f"s3://{bucket}", **server.env(identity)}
    return [f"export {key}={value}" for key, value in env.items()]


def announce(server: SeaweedServer, bucket: str, folder: Path, created: bool) -> str:
    shown = settings.display_path(folder)
    reader = server.identity("reader")
    lines = [
        f"SeaweedFS S3 registry on {server.endpoint}, bucket s3://{bucket} "
        f"({'created, versioned' if created else 'versioned'}); data and keys in {shown}",
        "",
        "To publish and fetch there, in another shell (or: source " + f"{shown}/team.env):",
        *(f"  {line}" for line in exports(server, bucket, "team")),
        "",
        f"Read-only identity: AWS_ACCESS_KEY_ID={reader.access_key} AWS_SECRET_ACCESS_KEY={reader.secret_key}",
        "Loopback only, plain HTTP: see 'Working as a team' in README.md before sharing it. Ctrl-C stops it.",
    ]
    return "\n".join(lines)


def _stop_on_signals() -> dict[int, object]:
    """Ctrl-C and SIGTERM stop the server, even where a shell started us with SIGINT ignored.

    Returns the previous handlers, to put back."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    return {signum: signal.signal(signum, handler) for signum in (signal.SIGINT, signal.SIGTERM)}


def serve(port: int, folder: Path, bucket: str, host: str) -> int:
    if not 1 <= port <= 65535 - GRPC_OFFSET - PORTS:
        raise ConfigError(f"--port {port}: expected 1-{65535 - GRPC_OFFSET - PORTS} (SeaweedFS also uses port+10000)")
    folder = folder.expanduser().absolute()
    folder.mkdir(parents=True, exist_ok=True)
    server = SeaweedServer(folder, identities(folder), port=port, host=host)
    previous = _stop_on_signals()
    print(f"Starting SeaweedFS S3 on {host}:{port} (log: {settings.display_path(folder / 'weed.log')}) ...", flush=True)
    try:
        server.start()
        created = ensure_bucket(server, bucket)
        (folder / "team.env").write_text("\n".join(exports(server, bucket, "team")) + "\n")
        (folder / "team.env").chmod(0o600)
        print(announce(server, bucket, folder, created), flush=True)
        code = server.process.wait()
        raise RegistryError(f"SeaweedFS stopped by itself (exit code {code}); see {folder / 'weed.log'}")
    except KeyboardInterrupt:
        print("Stopping SeaweedFS ...", flush=True)
        server.stop()
        print("Stopped; the registry's data stays in " + settings.display_path(folder), flush=True)
        return 0
    finally:
        server.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="registry-server", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"S3 port (default {DEFAULT_PORT})")
    parser.add_argument("--folder", type=Path, default=None, help="data and keys (default: <home>/registry-server)")
    parser.add_argument("--bucket", default=DEFAULT_BUCKET, help=f"bucket to create (default {DEFAULT_BUCKET})")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    args = parser.parse_args(argv)
    try:
        return serve(args.port, args.folder or default_folder(), args.bucket, args.host)
    except FashionError as exc:
        print(f"registry-server: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
