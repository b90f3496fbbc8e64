"""Hashing files and building small zips in memory."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Mapping
from pathlib import Path

__all__ = ["sha", "write_zip", "zip_bytes"]


def sha(path: Path) -> str:
    """The SHA-256 (hex) of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def zip_bytes(members: Mapping[str | zipfile.ZipInfo, bytes | str], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of ``members`` (name or ZipInfo -> text or bytes, directories implied), written by zipfile.

    Every entry gets ``compression``; a name gets the current time, a ZipInfo keeps its own.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as z:
        for name, data in members.items():
            if isinstance(name, zipfile.ZipInfo):
                name.compress_type = compression
            z.writestr(name, data.encode("utf-8") if isinstance(data, str) else data)
    return buffer.getvalue()


def write_zip(path: Path, members: Mapping[str | zipfile.ZipInfo, bytes | str]) -> Path:
    """:func:`zip_bytes` written to ``path``; returns ``path``."""
    path.write_bytes(zip_bytes(members))
    return path
