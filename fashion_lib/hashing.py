"""The checksums quilt3 records in package manifests, computed from local files.

quilt3 8 writes ``sha2-256-chunked`` hashes: the file is cut into 8 MiB parts (the part
size doubles while there would be more than 10,000 parts), each part is hashed with
SHA-256, and the value is base64(sha256(concatenated part digests)) - the same value S3
reports for a multipart upload with ``ChecksumAlgorithm=SHA256``. Older manifests use
plain ``SHA256`` (hex). Files are read in 1 MiB blocks, never whole.
"""

from __future__ import annotations

import base64
import hashlib
import math
from pathlib import Path

SHA256 = "SHA256"
SHA256_CHUNKED = "sha2-256-chunked"
PART_BYTES = 8 << 20
MAX_PARTS = 10_000
_BLOCK = 1 << 20


def part_size(size: int) -> int:
    """The part size quilt3 (and S3 multipart uploads) use for a file of ``size`` bytes."""
    chunk = PART_BYTES
    while math.ceil(size / chunk) > MAX_PARTS:
        chunk *= 2
    return chunk


def sha256_chunked(path: Path) -> str:
    """quilt3's ``sha2-256-chunked`` value of a file (base64)."""
    size = path.stat().st_size
    chunk = part_size(size)
    digests = []
    with open(path, "rb") as fh:
        for _ in range(math.ceil(size / chunk)):
            part, left = hashlib.sha256(), chunk
            while left and (block := fh.read(min(_BLOCK, left))):
                part.update(block)
                left -= len(block)
            digests.append(part.digest())
    if not digests:  # an empty file is an empty list of parts
        return base64.b64encode(hashlib.sha256(b"").digest()).decode()
    return base64.b64encode(hashlib.sha256(b"".join(digests)).digest()).decode()


def sha256_hex(path: Path) -> str:
    """Plain SHA-256 of a file, hex (quilt3's legacy ``SHA256`` hash type)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def s3_etag(path: Path, part: int) -> str:
    """The ETag S3 gives ``path`` uploaded in ``part``-byte parts (MD5, or MD5 of part MD5s + ``-N``)."""
    size = path.stat().st_size
    if size < part:  # one PutObject (s3transfer uploads in parts from the threshold on)
        digest = hashlib.md5(usedforsecurity=False)
        with open(path, "rb") as fh:
            while block := fh.read(_BLOCK):
                digest.update(block)
        return digest.hexdigest()
    digests = []
    with open(path, "rb") as fh:
        for _ in range(math.ceil(size / part)):
            digest, left = hashlib.md5(usedforsecurity=False), part
            while left and (block := fh.read(min(_BLOCK, left))):
                digest.update(block)
                left -= len(block)
            digests.append(digest.digest())
    return f"{hashlib.md5(b''.join(digests), usedforsecurity=False).hexdigest()}-{len(digests)}"


def file_hash(path: Path, hash_type: str) -> str:
    """The value of ``hash_type`` (``sha2-256-chunked`` or ``SHA256``) for ``path``.

    Other types quilt3 knows (CRC64NVME) are refused: fashion never writes them and
    cannot check them.
    """
    if hash_type == SHA256_CHUNKED:
        return sha256_chunked(path)
    if hash_type == SHA256:
        return sha256_hex(path)
    raise ValueError(f"unsupported hash type {hash_type!r}; expected {SHA256_CHUNKED} or {SHA256}")


class StreamHasher:
    """A hash computed while the bytes go by (one pass for copy and check).

    ``sha2-256-chunked`` and ``SHA256`` are computed here; other types are not streamable
    and report ``None`` from :meth:`value`, so the caller hashes the finished file instead.
    """

    def __init__(self, hash_type: str, size: int) -> None:
        self.hash_type, self.chunk = hash_type, part_size(size)
        self._whole = hashlib.sha256()
        self._part, self._left, self._digests = hashlib.sha256(), self.chunk, []
        self._seen = 0

    def update(self, data: bytes) -> None:
        self._seen += len(data)
        if self.hash_type == SHA256:
            self._whole.update(data)
            return
        view = memoryview(data)
        while view:
            take = min(self._left, len(view))
            self._part.update(view[:take])
            view, self._left = view[take:], self._left - take
            if not self._left:
                self._digests.append(self._part.digest())
                self._part, self._left = hashlib.sha256(), self.chunk

    def value(self) -> str | None:
        if self.hash_type == SHA256:
            return self._whole.hexdigest()
        if self.hash_type != SHA256_CHUNKED:
            return None
        digests = list(self._digests)
        if self._left != self.chunk:  # a last, partial part
            digests.append(self._part.digest())
        if not digests:
            return base64.b64encode(hashlib.sha256(b"").digest()).decode()
        return base64.b64encode(hashlib.sha256(b"".join(digests)).digest()).decode()
