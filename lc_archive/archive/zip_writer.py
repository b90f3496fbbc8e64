"""A streaming ZIP writer with per-entry control, and an atomic output file.

:class:`ArchiveWriter` writes the ZIP structures itself (``struct`` and ``zlib``), byte for byte as
the standard library's ``zipfile`` writes them when each member goes through ``ZipFile.open(zinfo,
"w")`` (which is what this module used to do, at some 40 microseconds per entry), at a fraction of
the cost; no member and no archive is ever held in memory. Every entry is written the way
openedx-core 1.15.2 writes them, except that compression is chosen per entry:

* ``external_attr = 0o600 << 16`` for files *and* directories (no DOS directory bit), ``create_system
  = 3`` (Unix), no extra fields (but ZIP64's), no comments; the UTF-8 flag (0x800) only for non-ASCII
  names;
* ``date_time`` is the given datetime in UTC (naive ones are taken as UTC), clamped to the DOS range
  1980-01-01 .. 2107-12-31 (DOS time has 2-second resolution, seconds are floored);
* DEFLATE at zlib's default level (6, raw stream, as ``zipfile._get_compressor``) or STORED, per
  call. Directory entries and empty files are always STORED;
* ZIP64 exactly where zipfile puts it: a local ZIP64 extra field when the announced size times 1.05
  passes 2 GiB, central ZIP64 fields for sizes or offsets past 2 GiB, the ZIP64 end records past
  65,535 entries (or a central directory past 2 GiB). On an output that cannot seek, headers carry
  zeros and each entry is followed by a data descriptor (flag 0x08), also as zipfile does.

Names are checked before anything is written: no duplicates, no file that is also a directory, no
NUL, no backslash, no absolute or ``..`` paths. After an exception the archive is incomplete; write
it through :func:`atomic_output` so a failed run never leaves a partial file behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from types import TracebackType
from typing import IO, BinaryIO, NoReturn
from zlib import DEFLATED, Z_DEFAULT_COMPRESSION, compressobj, crc32

from ..errors import LcArchiveError
from . import zip_format as fmt
from .atomic import atomic_output
from .compression import is_compressible
from .names import NOT_NFC, fold, name_problem
from .zip_central import CentralDirectory
from .zip_entry import DATA_DESCRIPTOR, UTF8, Entry, dos_date_time, too_large
from .zip_format import STORED
from .zip_names import TakenNames
from .zip_packer import MAX_ENTRY, Packer, cores_available

__all__ = ["ArchiveWriter", "EntryConflict", "atomic_output", "is_compressible"]

_STORED = STORED
_DEFLATED = fmt.DEFLATED
_LEVEL = Z_DEFAULT_COMPRESSION  # zipfile's compressor when no compresslevel is given (6)

_BUFFER_LIMIT = 1 << 20  # a streamed entry is gathered in memory up to this many input bytes
# Output is written in blocks of about this size. Besides saving calls, a block this large is
# mmapped by glibc's malloc, and freeing it raises glibc's trim threshold, so the ~256 KiB of state
# that zlib allocates and frees for every DEFLATEd entry is reused instead of being handed back to
# the kernel and faulted in again each time (that costs up to 3x the compression itself).
_FLUSH_AT = 1 << 20
_DIRECT_WRITE = 256 << 10  # a body this large is written as it is rather than copied into a block
_BLOCK = 1 << 20


class EntryConflict(LcArchiveError, ValueError):
    """An entry name that cannot be written: a duplicate, a file/directory clash, or unsafe."""


def _check_name(name: str) -> None:
    """Never write a name that lc-archive's own reader would refuse (the member-name policy, without the
    reader's size limits): no control characters, no ':' (drive letters, NTFS streams), no '\\', no
    absolute path or empty, '.' or '..' segment, Unicode NFC only."""
    problem = name_problem(name.removesuffix("/"), None)
    if problem == NOT_NFC:
        raise EntryConflict(f"archive entry name {name!r} is not in Unicode normalisation form NFC")
    if problem is not None:
        raise EntryConflict(f"unsafe archive entry name {name!r}")


class ArchiveWriter:
    """Writes ZIP entries one at a time, in call order, to a path or a binary file object.

    The output is byte for byte what ``zipfile.ZipFile(target, "w")`` writes when each entry goes
    through ``ZipFile.open(zinfo, "w")`` with the attributes described in the module docstring (that
    was this class's implementation; ``tests/test_zip_writer_fast.py`` keeps it as the oracle): the
    same headers, the same DEFLATE streams (``zlib.compressobj(-1, DEFLATED, -15)`` fed the same
    chunks), the same central directory and ZIP64 records and, on an unseekable output, the same data
    descriptors. Only the work per entry differs:

    * an entry whose data is all known before its header is due (directories, :meth:`add_bytes`, and
      :meth:`add_stream` until more than 1 MiB has come in) is packed in memory with its CRC and
      sizes already in its header: no seek;
    * headers and data are written in blocks of about 1 MiB (bodies of 256 KiB or more directly);
    * a streamed entry of more than 1 MiB (or announced so by ``size``) gets a provisional header,
      its data is written as it comes, and the header is patched at the end: one seek back, one
      forward (zipfile seeks three times for every entry). On an unseekable output, data descriptors
      are used instead, as zipfile does, and nothing seeks;
    * each central directory record is packed once, when its entry is written, into one bytearray;
    * on a machine with more than one CPU (``background=None``, the default; ``True``/``False`` force
      it), entries of up to 256 KiB are packed (CRC-32, DEFLATE) on a worker thread, in batches, while
      the caller produces the next ones, and written in call order (:mod:`.zip_packer`): zlib releases
      the GIL, so this uses a second core, and the bytes are the same. Names are still checked and
      claimed at the call, so errors are raised where they were.

    Memory: about 1 MiB of output not yet written, up to about 1.5 MiB of small entries being packed,
    the streamed entry being gathered (the DEFLATE output of at most 1 MiB of input, plus one chunk), up
    to 4 MiB of central directory records (the rest waits in a temporary file, where zipfile kept a
    ``ZipInfo`` per entry), and one dictionary entry per name for the duplicate and case-collision checks.
    """

    def __init__(self, target: str | os.PathLike[str] | BinaryIO, *, background: bool | None = None,
                 sizes_in_headers: bool = False) -> None:
        """``sizes_in_headers``: on an output that cannot seek, write every entry as on a seekable one
        (CRC and sizes in its local header, no data descriptor), spooling an entry of more than 1 MiB
        to a temporary file until it is complete. The bytes then equal those written to a file, so an
        archive streamed to an upload or an HTTP response is the archive a backup to disk writes."""
        self._own = isinstance(target, (str, os.PathLike))
        fp: BinaryIO
        if isinstance(target, (str, os.PathLike)):
            path = Path(target)
            try:  # zipfile's modes for "w": "w+b", else "wb"
                fp = path.open("w+b")
            except OSError:
                fp = path.open("wb")
        else:
            fp = target
        try:
            start = fp.tell()
        except (AttributeError, OSError):
            start, seekable = 0, False
        else:
            try:  # some file objects tell() but cannot seek()
                fp.seek(start)
            except (AttributeError, OSError):
                seekable = False
            else:
                seekable = True
        self._fp: BinaryIO | None = fp
        self._seekable = seekable
        self._flags = 0 if seekable or sizes_in_headers else DATA_DESCRIPTOR
        self._spool_large = sizes_in_headers and not seekable  # large entries wait in a temporary file
        self._pos = start  # where the next byte goes (zipfile's fp.tell()), output not yet written included
        self._start_dir = start  # the end of the last complete entry (zipfile's start_dir)
        self._parts: list[bytes] = []  # output not yet written, in order
        self._pending = 0  # bytes in _parts
        self._central = CentralDirectory()
        self._writing = False
        self._taken = TakenNames()  # fold(name) -> the name written, ~24 bytes a name
        self._stamps: dict[datetime, tuple[int, int]] = {}
        self.entries = 0
        """Number of entries written so far."""
        self.bytes_in = 0
        """Uncompressed bytes written so far."""
        if background is None:
            background = cores_available() > 1
        self._packer = Packer(self._whole) if background else None

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    # -- the public calls ----------------------------------------------------------------------------

    def has(self, name: str) -> bool:
        """Whether an entry with exactly this name was written."""
        return self._taken.get(fold(name)) == name

    def add_dir(self, name: str, when: datetime) -> None:
        """A directory entry; ``name`` must end in ``/``."""
        if not name.endswith("/"):
            raise EntryConflict(f"directory entry {name!r} must end with '/'")
        entry = self._entry(name, when, _STORED, 0)
        if self._packer is not None:
            self._packer.add(entry, b"", False)
        else:
            self._whole(entry, 0, (), 0, 0)
        self.entries += 1

    def add_bytes(self, name: str, data: bytes, when: datetime, *, compress: bool) -> None:
        """A file entry from bytes already in memory (small members such as TOML)."""
        size = len(data)
        if name.endswith("/"):
            raise EntryConflict(f"file entry {name!r} must not end with '/'")
        compress = compress and size != 0
        entry = self._entry(name, when, _DEFLATED if compress else _STORED, size)
        if self._packer is not None:
            if type(data) is bytes and size <= MAX_ENTRY:
                self._packer.add(entry, data, compress)
                self.entries += 1
                self.bytes_in += size
                return
            self._packer.drain()
        if type(data) is not bytes:  # a mutable or unusual buffer: the general path copies what it keeps
            self.bytes_in += self._stream(entry, (data,), size)
            self.entries += 1
            return
        crc = crc32(data)
        body: tuple[bytes, ...]
        if compress:
            compressor = compressobj(_LEVEL, DEFLATED, -15)
            body = (compressor.compress(data), compressor.flush())
            csize = len(body[0]) + len(body[1])
        else:
            body, csize = (data,), size
        if not entry.zip64 and (size > fmt.ZIP64_LIMIT or csize > fmt.ZIP64_LIMIT):
            self._refuse(entry, entry.header(0, 0, size), body, size, csize)
        self._whole(entry, crc, body, csize, size)
        self.entries += 1
        self.bytes_in += size

    def add_stream(
        self,
        name: str,
        chunks: Iterable[bytes],
        when: datetime,
        *,
        compress: bool,
        size: int | None = None,
    ) -> int:
        """A file entry written chunk by chunk; returns its size. ``size`` (if known) selects ZIP64.

        Up to 1 MiB is gathered and written with its header (no seek); past that, or when ``size``
        says so, the data is written as it comes and the header patched at the end. A stream of more
        than 2 GiB needs ``size`` (without it the entry fails, as it does with zipfile).
        """
        if name.endswith("/"):
            raise EntryConflict(f"file entry {name!r} must not end with '/'")
        announced = size or 0
        entry = self._entry(name, when, _DEFLATED if compress and size != 0 else _STORED, announced)
        if self._packer is not None:
            if 0 < announced <= MAX_ENTRY:
                return self._gather(entry, chunks, announced)
            self._packer.drain()
        written = self._stream(entry, chunks, announced)
        self.entries += 1
        self.bytes_in += written
        return written

    def _gather(self, entry: Entry, chunks: Iterable[bytes], announced: int) -> int:
        """A small announced stream, read whole and handed to the packer like :meth:`add_bytes`.

        Anything unusual goes the single-thread way, with the same result: a chunk that is not
        ``bytes`` or more data than :data:`~.zip_packer.MAX_ENTRY` (the stream is then written as it
        comes), or an exception from the chunks (the entry is completed with what came before, as
        :meth:`_stream` and zipfile do, and the exception propagates).
        """
        assert self._packer is not None
        gathered: list[bytes] = []
        size = 0
        it = iter(chunks)
        unusual: tuple[bytes] | None = None
        try:
            for chunk in it:
                if type(chunk) is not bytes or size + len(chunk) > MAX_ENTRY:
                    unusual = (chunk,)
                    break
                gathered.append(chunk)
                size += len(chunk)
        except BaseException:
            self._packer.drain()
            self._stream(entry, gathered, announced)
            raise
        if unusual is not None:
            self._packer.drain()
            written = self._stream(entry, chain(gathered, unusual, it), announced)
        else:
            self._packer.add(entry, gathered[0] if len(gathered) == 1 else b"".join(gathered),
                             entry.method == _DEFLATED)
            written = size
        self.entries += 1
        self.bytes_in += written
        return written

    def close(self) -> None:
        """Write the central directory (the underlying file object, if one was given, stays open)."""
        fp = self._fp
        if fp is None:
            return
        if self._writing:
            raise ValueError("Can't close the ZIP file while there is an open writing handle on it")
        try:
            if self._packer is not None:
                self._packer.drain()
            central = self._central
            tail = central.end_records(self._start_dir, self._pos + central.size)
            self._flush()
            central.write_to(fp)
            fp.write(tail)
            fp.flush()
        finally:
            if self._packer is not None:
                self._packer.close()
            self._fp = None
            self._central.close()
            self._taken.close()
            if self._own:
                fp.close()

    # -- entries -------------------------------------------------------------------------------------

    def _entry(self, name: str, when: datetime, method: int, announced: int) -> Entry:
        """Check and claim ``name``, in zipfile's order (the name stays taken if a later step fails)."""
        _check_name(name)
        taken = self._taken
        folded = fold(name)
        first = taken.get(folded)
        if first == name:
            raise EntryConflict(f"duplicate archive entry {name!r}")
        if first is not None:
            raise EntryConflict(f"archive entry {name!r} collides with {first!r} after Unicode "
                                "normalisation and case folding (the names would clash on many file systems)")
        other = name[:-1] if name.endswith("/") else name + "/"
        if taken.get(fold(other)) == other:
            raise EntryConflict(f"archive entry {name!r} clashes with {other!r}")
        if name.isascii():
            encoded, flags = name.encode("ascii"), self._flags
        else:
            try:
                encoded = name.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise EntryConflict(f"archive entry name {name!r} is not valid Unicode") from exc
            flags = self._flags | UTF8
        taken.add(folded, name)
        # Equal naive or UTC datetimes give the same stamp, so those are cached by value (in other
        # zones, datetimes on either side of a DST fold compare equal but differ in UTC).
        if type(when) is datetime and (when.tzinfo is None or when.tzinfo is UTC):
            stamp = self._stamps.get(when)
            if stamp is None:
                if len(self._stamps) >= 4096:
                    self._stamps.clear()
                stamp = self._stamps[when] = dos_date_time(when)
        else:
            stamp = dos_date_time(when)
        if self._fp is None:
            raise ValueError("Attempt to use ZIP archive that was already closed")
        if self._writing:
            raise ValueError("Can't write to the ZIP file while there is another write handle open on it")
        return Entry(encoded, flags, stamp, method, announced * 1.05 > fmt.ZIP64_LIMIT)

    def _flush(self) -> None:
        parts = self._parts
        if parts:
            assert self._fp is not None
            self._fp.write(parts[0] if len(parts) == 1 else b"".join(parts))
            parts.clear()
            self._pending = 0

    def _whole(self, entry: Entry, crc: int, body: Iterable[bytes], csize: int, usize: int) -> None:
        """Write an entry whose data is all known: header, data (and descriptor), no seek."""
        entry.offset = offset = self._pos
        header = entry.header(crc, csize, usize)
        parts = self._parts
        parts.append(header)
        if csize < _DIRECT_WRITE:
            parts.extend(body)
            self._pending += len(header) + csize
        else:  # too big to copy into a block: write it as it is
            self._flush()
            assert self._fp is not None
            for part in body:
                self._fp.write(part)
        end = offset + len(header) + csize
        if entry.flags & DATA_DESCRIPTOR:
            descriptor = entry.descriptor(crc, csize, usize)
            parts.append(descriptor)
            self._pending += len(descriptor)
            end += len(descriptor)
        self._pos = self._start_dir = end
        self._central.add(entry.record(crc, csize, usize))
        if self._pending >= _FLUSH_AT:
            self._flush()

    def _refuse(self, entry: Entry, first: bytes, body: Sequence[bytes], usize: int, csize: int) -> NoReturn:
        """Do what zipfile does with an entry started without ZIP64 that turns out larger than 2 GiB:
        its first header and data are written, then it is refused (not recorded); on a seekable
        output the next entry (or the central directory) overwrites it."""
        self._parts.append(first)
        self._parts.extend(body)
        self._flush()
        self._refused(self._pos + len(first) + sum(map(len, body)))
        raise too_large(entry.name, usize, csize)

    def _refused(self, end: int) -> None:
        assert self._fp is not None
        if self._seekable:  # zipfile writes its next entry, or the central directory, at start_dir
            self._fp.seek(self._start_dir)
            self._pos = self._start_dir
        else:  # zipfile's position moves on, its start_dir (the central directory's offset) does not
            self._pos = end

    def _stream(self, entry: Entry, chunks: Iterable[bytes], announced: int) -> int:
        """Write one entry from chunks; returns the sum of ``len(chunk)``.

        If the chunks raise, the entry is completed with what came before and recorded, and the
        exception propagates (as zipfile's ``with zf.open(...)`` does; the name stays taken).
        """
        fp = self._fp
        assert fp is not None
        # zipfile's first header: announced size, CRC and compressed size 0. Packed first, so that an
        # announced size that does not fit fails before any output, as it does there.
        first = entry.header(0, 0, announced)
        compressor = compressobj(_LEVEL, DEFLATED, -15) if entry.method == _DEFLATED else None
        held: list[bytes] = []  # output gathered until the entry is complete or too large
        streaming = False  # the provisional header is written and the data goes straight out
        spool: IO[bytes] | None = None  # sizes_in_headers on an unseekable output: the data waits here
        crc = usize = csize = written = 0

        def start_streaming() -> None:
            nonlocal streaming, spool
            if self._spool_large:
                spool = tempfile.TemporaryFile(prefix="lc-archive-entry-")  # noqa: SIM115 (closed below)
                spool.writelines(held)
                held.clear()
                return
            entry.offset = self._pos
            self._parts.append(first)
            self._parts.extend(held)
            self._flush()
            held.clear()
            streaming = True

        def finish() -> None:
            """Complete the entry the way ``_ZipWriteFile.close`` does."""
            nonlocal csize
            tail = compressor.flush() if compressor is not None else b""
            csize += len(tail)
            refused = not entry.zip64 and (usize > fmt.ZIP64_LIMIT or csize > fmt.ZIP64_LIMIT)
            if spool is not None:  # complete now: header with the sizes, then the spooled data
                spool.write(tail)
                spool.seek(0)
                body = iter(lambda: spool.read(_BLOCK), b"")
                if refused:
                    self._refuse(entry, first, list(body), usize, csize)
                self._whole(entry, crc, body, csize, usize)
                return
            if not streaming:
                held.append(tail)
                if refused:
                    self._refuse(entry, first, held, usize, csize)
                self._whole(entry, crc, held, csize, usize)
                return
            fp.write(tail)
            end = entry.offset + len(first) + csize
            if refused:
                self._refused(end)
                raise too_large(entry.name, usize, csize)
            if entry.flags & DATA_DESCRIPTOR:
                descriptor = entry.descriptor(crc, csize, usize)
                fp.write(descriptor)
                end += len(descriptor)
            else:  # the one seek back: the final header is as long as the provisional one
                fp.seek(entry.offset)
                fp.write(entry.header(crc, csize, usize))
                fp.seek(end)
            self._pos = self._start_dir = end
            self._central.add(entry.record(crc, csize, usize))

        self._writing = True
        try:
            if announced > _BUFFER_LIMIT:
                start_streaming()
            for chunk in chunks:
                data: bytes | bytearray | memoryview
                if isinstance(chunk, (bytes, bytearray)):
                    data, size = chunk, len(chunk)
                else:  # as _ZipWriteFile.write counts it
                    data = memoryview(chunk)
                    size = data.nbytes
                usize += size
                crc = crc32(data, crc)
                out = compressor.compress(data) if compressor is not None else data
                written += len(chunk)
                csize += len(out)
                if streaming:
                    fp.write(out)
                elif spool is not None:
                    spool.write(out)
                else:
                    held.append(out if type(out) is bytes else bytes(out))  # the caller may reuse its buffer
                    if usize > _BUFFER_LIMIT:
                        start_streaming()
            self._writing = False
            finish()
        except BaseException:
            if self._writing:
                self._writing = False
                finish()
            raise
        finally:
            if spool is not None:
                spool.close()
        return written
