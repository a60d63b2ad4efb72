"""Our hashes against quilt3's own implementation: publish and verify both use ours, so
a bug there would agree with itself; quilt3's code is the independent judge."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fashion_lib import hashing
from fashion_lib.registry.quilt import quilt


@pytest.mark.parametrize("size", [0, 1, 8 << 20, (8 << 20) + 1, (17 << 20) + 5])
def test_sha256_chunked_matches_quilt3(tmp_path: Path, size: int):
    data = os.urandom(size)
    path = tmp_path / "blob"
    path.write_bytes(data)
    checksums = quilt().checksums
    expected = checksums.calculate_multipart_checksum_bytes(data, checksum_type=hashing.SHA256_CHUNKED)
    assert hashing.sha256_chunked(path) == expected
    assert hashing.file_hash(path, hashing.SHA256_CHUNKED) == expected
    streamed = hashing.StreamHasher(hashing.SHA256_CHUNKED, size)
    for start in range(0, size, 3 << 20):  # blocks that straddle part boundaries
        streamed.update(data[start : start + (3 << 20)])
    assert streamed.value() == expected


def test_legacy_sha256_matches_quilt3(tmp_path: Path):
    data = os.urandom(123_457)
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert hashing.file_hash(path, hashing.SHA256) == quilt().checksums.legacy_calculate_checksum_bytes(data)


def test_part_size_matches_quilt3():
    for size in (0, 1, 8 << 20, 80_000 << 20, 200_000 << 20):
        assert hashing.part_size(size) == quilt().checksums.get_checksum_chunksize(size)


def test_unknown_hash_type_is_refused(tmp_path: Path):
    (tmp_path / "blob").write_bytes(b"x")
    with pytest.raises(ValueError, match="unsupported hash type 'CRC64NVME'"):
        hashing.file_hash(tmp_path / "blob", "CRC64NVME")
