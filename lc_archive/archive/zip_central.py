"""The central directory of a ZIP being written: its records, spooled to disk past a bound, and its end records."""

from __future__ import annotations

import shutil
import tempfile
from typing import IO, BinaryIO

from . import zip_format as fmt
from .zip_entry import ZIP64_VERSION
from .zip_format import EOCD, EOCD_SIG, Z64_EOCD, Z64_EOCD_SIG, Z64_LOCATOR, Z64_LOCATOR_SIG

__all__ = ["CentralDirectory"]

_IN_MEMORY = 4 << 20  # records beyond this many bytes go to a temporary file
_BLOCK = 1 << 20


class CentralDirectory:
    """Central directory records in write order: up to 4 MiB in memory, the rest in a temporary file
    (where ``zipfile`` keeps a ``ZipInfo`` per entry)."""

    def __init__(self) -> None:
        self._records = bytearray()  # records not yet spooled
        self._spool: IO[bytes] | None = None
        self._spooled = 0
        self.count = 0
        """Records kept (entries cut short by an exception included)."""

    @property
    def size(self) -> int:
        """Bytes of all the records kept."""
        return self._spooled + len(self._records)

    def add(self, record: bytes) -> None:
        """Keep one record."""
        records = self._records
        records += record
        self.count += 1
        if len(records) >= _IN_MEMORY:
            if self._spool is None:
                self._spool = tempfile.TemporaryFile(prefix="lc-archive-central-")  # noqa: SIM115
            self._spool.write(records)
            self._spooled += len(records)
            records.clear()

    def end_records(self, offset: int, end: int) -> bytes:
        """The end of central directory record (and ZIP64's, where zipfile writes them), as zipfile
        writes them: ``offset`` is the end of the last complete entry (zipfile's ``start_dir``), ``end``
        where the directory's records end."""
        count, size = self.count, end - offset
        tail = b""
        if count > fmt.FILECOUNT_LIMIT or offset > fmt.ZIP64_LIMIT or size > fmt.ZIP64_LIMIT:
            tail = Z64_EOCD.pack(Z64_EOCD_SIG, 44, ZIP64_VERSION, ZIP64_VERSION, 0, 0, count, count, size, offset)
            tail += Z64_LOCATOR.pack(Z64_LOCATOR_SIG, 0, end, 1)
            count, size, offset = min(count, 0xFFFF), min(size, 0xFFFFFFFF), min(offset, 0xFFFFFFFF)
        return tail + EOCD.pack(EOCD_SIG, 0, 0, count, count, size, offset, 0)

    def write_to(self, fp: BinaryIO) -> None:
        """Write every record kept to ``fp``, in order."""
        if self._spool is not None:
            self._spool.seek(0)
            shutil.copyfileobj(self._spool, fp, _BLOCK)
        fp.write(self._records)

    def close(self) -> None:
        """Drop the records and the temporary file."""
        self._records = bytearray()
        if self._spool is not None:
            self._spool.close()
            self._spool = None
