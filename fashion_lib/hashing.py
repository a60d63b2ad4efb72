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


def file_hash(path: Path, hash_type: str) -> str:
    """The value of ``hash_type`` for ``path``; other types (CRC64NVME) go to quilt3."""
    if hash_type == SHA256_CHUNKED:
        return sha256_chunked(path)
    if hash_type == SHA256:
        return sha256_hex(path)
    from .registry import quilt

    checksums = quilt().checksums
    calculator = checksums.MultiPartChecksumCalculator.get_calculator_cls(hash_type)
    return _multipart(path, calculator)


def _multipart(path: Path, calculator) -> str:
    size = path.stat().st_size
    chunk = part_size(size)
    parts = []
    with open(path, "rb") as fh:
        for start in range(0, size, chunk):
            calc, left = calculator(), min(chunk, size - start)
            while left and (block := fh.read(min(_BLOCK, left))):
                calc.update(block)
                left -= len(block)
            parts.append(calc.digest(min(chunk, size - start)))
    return calculator.combine_parts(parts)
