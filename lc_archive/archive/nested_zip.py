"""Inspect a ZIP archive that sits inside an archive (a code library's ``python_lib.zip``).

The inner zip is as hostile as the archive that carries it, so it gets the same treatment, with the
same :class:`~lc_archive.archive.limits.Limits`:

1. its bytes are spooled from the outer member to a private temporary file, in chunks, and refused
   past :attr:`~Limits.max_media_size` (the size of one media file) without reading further;
2. :class:`~lc_archive.archive.zip_reader.ArchiveReader` runs its whole pre-flight on that file:
   names that escape (``../evil.py``, absolute, backslash, drive letters), links and other special
   files, encryption, unknown compression methods, too many entries, declared sizes and ratios above
   the limits (a member that would inflate to 1 GB is refused from its header, never inflated),
   overlapping or hidden entries, headers that disagree;
3. every file entry is then streamed through once and discarded: the bounded member streams stop
   any member whose data inflates past (or short of) its declared size and check every CRC-32, so a
   header that lies about a size is caught after at most one read buffer;
4. every Python source file is checked: at most :data:`source_limit` bytes (``max_toml_size``, the
   cap on text documents parsed in memory; 1 MiB by default, real grading modules are under 100 KB),
   at most :attr:`~Limits.max_media_size` bytes of Python in all, strict UTF-8 (a leading BOM is
   allowed), and it must compile as Python 3 (:func:`compile` to bytecode, which is what
   ``zipimport`` does on import; nothing is executed), in a child process with a CPU cap per file
   (:mod:`.source_check`: a source too costly to compile is refused), each distinct source once.
   Python 2 code does not compile: that is an
   error, since codejail runs Python 3 and such a module could never be imported. A coding cookie
   naming another encoding is not honoured: the format requires UTF-8.

**Nesting** (:attr:`~Limits.max_archive_nesting`, 1): this module opens one level, the zip it is
given. A ``.zip`` (or any archive) inside it is a plain file: it is streamed and CRC-checked like
every member, never opened. ``zipimport`` cannot import from a zip inside a zip, so deeper levels
have no use, and refusing to look into them rules out zip-in-zip bombs.

Files under ``__MACOSX/`` and files with a path component starting with ``.`` (macOS AppleDouble
``._x.py`` files, editor backups) are listed but not compiled: no import can reach them.

Nothing here raises on content: every problem is returned as a :class:`NestedProblem`, naming the
entry inside the zip when there is one.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Final

from ..errors import ArchiveInvalid, LcArchiveError
from .limits import DEFAULT_LIMITS, Limits
from .source_check import compile_sources
from .zip_reader import ARCHIVE, ArchiveReader

__all__ = ["NestedProblem", "NestedZip", "inspect_nested_zip", "is_importable_source", "source_limit"]

_CHUNK: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class NestedProblem:
    """One thing wrong with an inner zip: ``file`` is the entry inside it (None: the zip as a whole)."""

    file: str | None
    message: str
    """A complete sentence that names the zip (and the entry), e.g.
    ``python_lib.zip: member '../evil.py': '..' path component (path traversal)``."""


@dataclass(frozen=True, slots=True)
class NestedZip:
    """What :func:`inspect_nested_zip` found."""

    files: tuple[str, ...]
    """The file entries (not directories), sorted in code-point order; empty if the pre-flight failed."""
    total_uncompressed: int
    """Sum of the declared sizes of those files."""
    problems: tuple[NestedProblem, ...]

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems


def source_limit(limits: Limits) -> int:
    """The largest Python source file accepted (and compiled in memory): ``limits.max_toml_size``."""
    return limits.max_toml_size


def is_importable_source(name: str) -> bool:
    """Whether ``name`` (an entry of the zip) is a ``.py`` file an import could reach."""
    if not name.endswith(".py") or name.startswith("__MACOSX/"):
        return False
    return not any(part.startswith(".") for part in name.split("/"))


def inspect_nested_zip(
    stream: BinaryIO,
    *,
    member: str,
    declared_size: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
    check_sources: bool = True,
) -> NestedZip:
    """Spool ``stream`` (the bytes of an inner zip), check it with ``limits`` and list its files.

    ``member`` is how the zip is named in messages (``python_lib.zip``); ``declared_size``, when known,
    is refused above :attr:`~Limits.max_media_size` before anything is read and must match the bytes
    read. ``check_sources=False`` only runs the pre-flight and lists the files (no member is read):
    for callers that already trust the zip, such as a backup reading its own store.
    """
    cap = limits.max_media_size
    if declared_size is not None and declared_size > cap:
        return _refused(member, f"the file is {declared_size} bytes, above the limit of {cap} bytes for a media file")
    with tempfile.TemporaryFile() as spool:
        problem = _spool(stream, spool, member=member, declared_size=declared_size, cap=cap)
        if problem is not None:
            return _refused(member, problem)
        spool.seek(0)
        try:
            with ArchiveReader(spool, limits=limits) as reader:
                entries = [m for m in reader.members if not m.is_dir]
                files = tuple(sorted(m.name for m in entries))
                total = sum(m.size for m in entries)
                problems: list[NestedProblem] = []
                if check_sources:
                    _check_members(reader, [m.name for m in entries], member, limits, problems)
                return NestedZip(files, total, tuple(problems))
        except ArchiveInvalid as exc:  # the pre-flight refused it
            return NestedZip((), 0, tuple(_from_invalid(member, exc)))


def _refused(member: str, message: str) -> NestedZip:
    return NestedZip((), 0, (NestedProblem(None, f"{member}: {message}"),))


def _spool(stream: BinaryIO, spool: BinaryIO, *, member: str, declared_size: int | None, cap: int) -> str | None:
    """Copy ``stream`` to ``spool``, at most ``cap`` bytes; return what is wrong, or None."""
    size = 0
    try:
        while chunk := stream.read(min(_CHUNK, cap + 1 - size)):
            size += len(chunk)
            if size > cap:
                return f"the file is more than {cap} bytes, above the limit for a media file"
            spool.write(chunk)
    except ArchiveInvalid as exc:  # the outer archive's member is corrupt
        return "cannot be read: " + "; ".join(p.message for p in exc.problems)
    except (LcArchiveError, OSError, ValueError) as exc:
        return f"cannot be read ({type(exc).__name__}: {exc})"
    if declared_size is not None and size != declared_size:
        return f"the file is {size} bytes long, not the declared {declared_size}"
    return None


def _from_invalid(member: str, exc: ArchiveInvalid) -> list[NestedProblem]:
    out = []
    for p in exc.problems:
        if p.member == ARCHIVE:
            out.append(NestedProblem(None, f"{member}: {p.message}"))
        else:
            out.append(NestedProblem(p.member, f"{member}: member {p.member!r}: {p.message}"))
    return out


def _check_members(reader: ArchiveReader, names: list[str], member: str, limits: Limits,
                   problems: list[NestedProblem]) -> None:
    """Stream every file entry once (sizes and CRCs), and compile the Python sources (CPU-capped, each
    distinct source once: :mod:`.source_check`)."""
    per_file = source_limit(limits)
    budget = limits.max_media_size  # total bytes of Python compiled
    over_budget = False
    sources: list[str] = []
    for name in names:
        source = is_importable_source(name)
        size = reader.member(name).size
        if source and size > per_file:
            problems.append(NestedProblem(name, f"{member}: {name} is {size} bytes, above the limit of {per_file} "
                                                "bytes for a Python source file (max_toml_size)"))
            source = False
        if source and not over_budget:
            budget -= size
            if budget < 0:
                over_budget = True
                problems.append(NestedProblem(None, f"{member}: its Python source files total more than "
                                                    f"{limits.max_media_size} bytes; the rest are not checked"))
        if source and not over_budget:
            sources.append(name)
            continue
        try:
            with reader.open(name) as stream:
                while stream.read(_CHUNK):
                    pass
        except ArchiveInvalid as exc:
            problems.extend(_from_invalid(member, exc))
    for name, message in compile_sources(_texts(reader, sources, member, per_file, problems)):
        if message is not None:
            problems.append(NestedProblem(name, f"{member}: {message}"))


def _texts(reader: ArchiveReader, names: list[str], member: str, per_file: int,
           problems: list[NestedProblem]) -> Iterator[tuple[str, str]]:
    """Each source as text, read when the compiler asks for it (not UTF-8 or unreadable: a problem)."""
    for name in names:
        try:
            data = reader.read_bytes(name, max_size=per_file)
        except ArchiveInvalid as exc:
            problems.extend(_from_invalid(member, exc))
            continue
        try:
            yield name, data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            problems.append(NestedProblem(name, f"{member}: {name} is not UTF-8: line {line}: byte "
                                                f"{data[exc.start]:#04x} at offset {exc.start}"))
