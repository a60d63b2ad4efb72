"""SeaweedFS S3 identities: key pairs and their permissions, in the ``-s3.config`` file."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import RegistryError

READ_WRITE = ("Read", "Write", "List")  # all a publisher needs (multipart included)
READ_ONLY = ("Read", "List")
ADMIN = ("Admin", "Read", "Write", "List", "Tagging")


@dataclass(frozen=True)
class Identity:
    """One S3 identity: a key pair and what SeaweedFS lets it do (``Read``, ``Write``, ...)."""

    name: str
    access_key: str
    secret_key: str
    actions: tuple[str, ...] = READ_WRITE

    def as_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "actions": list(self.actions),
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
        }


def write_identities(path: Path, identities: Sequence[Identity]) -> None:
    """The ``-s3.config`` file: identities and their keys, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(json.dumps({"identities": [i.as_config() for i in identities]}, indent=2))
    tmp.chmod(0o600)
    os.replace(tmp, path)


def read_identities(path: Path) -> list[Identity]:
    """Identities from a ``-s3.config`` file written by :func:`write_identities`."""
    try:
        config = json.loads(path.read_text())
        return [
            Identity(i["name"], i["credentials"][0]["accessKey"], i["credentials"][0]["secretKey"], tuple(i["actions"]))
            for i in config["identities"]
        ]
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise RegistryError(f"{path}: not a SeaweedFS identities file ({exc}); move it away to make new keys") from None
