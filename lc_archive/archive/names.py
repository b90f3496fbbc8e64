"""The member-name policy of lc-archive's archives: one place for what a name may be and when two clash.

* :func:`fold`: the key under which two names land on the same file of a case-insensitive file system
  (Unicode NFC, case folding, NFC);
* :func:`check_raw_name`: everything wrong with one raw entry name (the ZIP pre-flight's diagnosis,
  every problem with its own message), and :func:`name_problem`, the first reason, for writers that
  only need a yes or no;
* :func:`clash_problems`: duplicates, case-fold collisions and file/directory clashes in a whole
  central directory (the reader's check, built for a million names);
* :class:`NameClaims`: the same clash rules, one name at a time, for writers that hand out names
  (v2 member names, plugin payload names) so that the reader accepts whatever they write.

The ZIP writer checks names with :func:`name_problem` too (without the size limits, which belong to
the reader), and keeps zipfile's own duplicate rules so that its output stays byte for byte zipfile's.
"""

from __future__ import annotations

import re
import unicodedata

from ..domain.digests import TextSet
from ..errors import Problem
from .limits import DEFAULT_LIMITS, Limits

__all__ = [
    "NOT_NFC",
    "PLAIN_BYTES",
    "NameClaims",
    "check_raw_name",
    "clash_problems",
    "display",
    "fold",
    "name_problem",
]

_BAD_BYTE = re.compile(rb"[\x00-\x1f\x7f]")
PLAIN_BYTES = bytes(sorted(set(range(0x20, 0x7F)) - set(b"\\:")))
"""Printable ASCII but backslash and colon: the bytes of a name that needs no character checks."""
_DRIVE = re.compile(rb"[A-Za-z]:")
_PLAIN = re.compile(r"[\x20-\x39\x3b-\x5b\x5d-\x7e]+")  # PLAIN_BYTES, as text
NOT_NFC = "the name is not in Unicode normalisation form NFC"
"""The reason :func:`check_raw_name` and :func:`name_problem` give for a name that is not in NFC."""
_NO_SIZE_LIMITS = DEFAULT_LIMITS.replace(max_path_length=1 << 62, max_path_depth=1 << 62, max_name_component=1 << 62)


def fold(name: str) -> str:
    """The key under which two names land on the same file on a case-insensitive filesystem.

    NFC, case folding, NFC; an ASCII name is just lower-cased. A name already in folded form (the usual
    case) comes back as the same object, so that tables keyed by folded names and holding the names too
    keep one string per name, not two.
    """
    if name.isascii():
        if name.islower():
            return name
        folded = name.lower()
    else:
        folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())
    return name if folded == name else folded


def display(name: str, valid: bool) -> str:
    """The name as shown in problems: itself if printable, else its repr."""
    return name if valid and name and name.isprintable() else repr(name)


def check_raw_name(raw: bytes, utf8_flag: bool, limits: Limits) -> tuple[str, bool, list[str]]:
    """Decode an entry name; return it, whether it is valid UTF-8 and what is wrong with it.

    The central-directory parser skips this for plain names (:data:`PLAIN_BYTES` only, within the
    limits, no ``.`` or empty component), with which it would find nothing wrong.
    """
    messages: list[str] = []
    valid = True
    if raw.isascii():
        name = raw.decode("ascii")
    else:
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            name = raw.decode("utf-8", "backslashreplace")
            valid = False
        if not utf8_flag:
            messages.append("non-ASCII name without the UTF-8 flag (general purpose bit 11)")
        elif not valid:
            messages.append("the name is not valid UTF-8")
        elif not unicodedata.is_normalized("NFC", name):
            messages.append(NOT_NFC)
    if not raw:
        messages.append("empty name")
        return name, valid, messages
    bad = _BAD_BYTE.search(raw)
    if bad:
        messages.append(f"control character {bad.group()[0]:#04x} at byte {bad.start()} of the name")
    if b"\\" in raw:
        messages.append("backslash in the name")
    if _DRIVE.match(raw):
        messages.append("drive-letter path")
    elif b":" in raw:
        messages.append("colon in the name (drive or NTFS stream syntax; not portable)")
    body = name[:-1] if name.endswith("/") else name
    parts = body.split("/")
    if raw.startswith(b"/"):
        messages.append("absolute path")
        parts = parts[1:]
    if "" in parts:
        messages.append("empty path component")
    if ".." in parts:
        messages.append("'..' path component (path traversal)")
    if "." in parts:
        messages.append("'.' path component")
    if len(raw) > limits.max_path_length:
        messages.append(f"the name is {len(raw)} bytes long, above the limit of {limits.max_path_length}")
    if len(parts) > limits.max_path_depth:
        messages.append(f"the path has {len(parts)} components, above the limit of {limits.max_path_depth}")
    if len(raw) > limits.max_name_component:
        longest = max(len(part.encode("utf-8", "surrogateescape")) for part in parts)
        if longest > limits.max_name_component:
            messages.append(f"a path component is {longest} bytes long, "
                            f"above the limit of {limits.max_name_component}")
    return name, valid, messages


def clash_problems(names: list[str], bad: dict[int, bytes], problems: list[Problem]) -> None:
    """Duplicates, NFC/case-fold collisions and file/directory clashes between the entries ``names``
    (in central-directory order; ``bad`` holds the records whose names are not valid UTF-8).

    Keys are folded whole names, a directory's with its trailing '/', so that a name already in
    folded form (the usual case) is its own key and the tables hold no new string for it; a file and
    a directory of the same name meet by looking up the other form too.
    """
    def shown(record: int) -> str:
        return display(names[record], record not in bad)

    folded: dict[str, str | int] = {}  # key -> the first entry's name (its record if not valid UTF-8)
    # Folded directory path, with its '/' -> name of the first entry inside it, or "" for a directory
    # entry with nothing inside so far: listing directory entries first makes their keys (often
    # their names) the keys here, rather than new strings.
    parents: dict[str, str] = {}
    lookup = folded.get
    for record, name in enumerate(names):
        is_dir = name.endswith("/")
        key = fold(name)  # the name itself for a name already in folded form: no new string kept
        other = lookup(key)
        if other is None and not key.endswith("//"):  # a directory "x//" has no file twin "x/"
            other = lookup(key[:-1] if is_dir else key + "/")  # a file and a directory of the same name
        if other is None:
            folded[key] = record if bad and record in bad else name
        else:
            other_name = names[other] if isinstance(other, int) else other
            if other_name == name:
                problems.append(Problem(shown(record), "$", "duplicate entry name"))
                continue
            other_display = display(other_name, not isinstance(other, int))
            if other_name.endswith("/") != is_dir:
                problems.append(Problem(shown(record), "$", f"a file and a directory share this name "
                                                          f"(with {other_display!r})"))
            else:
                problems.append(Problem(shown(record), "$", f"the name collides with {other_display!r} "
                                                          "after Unicode NFC normalisation and case folding"))
        if is_dir:
            parents.setdefault(key, "")
        cut = key.rfind("/", 0, -1)
        while cut > 0:
            parent = key[:cut + 1]
            inside = parents.get(parent)
            if inside is None:
                parents[parent] = name
                cut = key.rfind("/", 0, cut)
                continue
            if not inside:  # the directory's entry came first; it already went up the path
                parents[parent] = name
            break
    for key, first in folded.items():
        if not key.endswith("/") and (user := parents.get(key + "/")):
            where = shown(first) if isinstance(first, int) else display(first, True)
            problems.append(Problem(where, "$", f"a file entry is also used as a directory (by {user!r})"))


def name_problem(name: str, limits: Limits | None = DEFAULT_LIMITS) -> str | None:
    """Why the ZIP pre-flight would refuse ``name`` as a file member (on its own), or None.

    The first reason :func:`check_raw_name` gives, answered without it for the usual plain name;
    ``limits=None`` leaves out the length and depth limits (what the ZIP writer checks).
    """
    if not name or name.endswith("/"):
        return "empty, or a directory"
    bounds = limits or _NO_SIZE_LIMITS
    if (len(name) <= min(bounds.max_name_component, bounds.max_path_length) and _PLAIN.fullmatch(name)
            and name[0] not in "/." and "//" not in name and "/." not in name
            and name.count("/") < bounds.max_path_depth):
        return None  # plain printable ASCII within the limits: nothing for check_raw_name to find
    _, _, messages = check_raw_name(name.encode("utf-8", "surrogatepass"), True, bounds)
    return messages[0] if messages else None


class NameClaims:
    """The file names handed out so far in one archive being written, folded, with their directories.

    A name is free when :func:`name_problem` accepts it and it clashes with nothing claimed: no claimed
    file or directory folds to it, no claimed file is one of its parent directories (a file used as a
    directory), as the reader's :func:`clash_problems` would say.
    """

    __slots__ = ("_dirs", "_files", "_limits")

    def __init__(self, limits: Limits = DEFAULT_LIMITS, *, compact: bool = True) -> None:
        """``compact``: the names as SHA-256 keys (~45 bytes a name, for an archive's 240,000 at 100,000
        components), else in sets of strings (faster, for a few names claimed for a short while)."""
        self._limits = limits
        # Folded file names, and folded directory names with their trailing '/'.
        self._files: TextSet | set[str] = TextSet() if compact else set()
        self._dirs: TextSet | set[str] = TextSet() if compact else set()

    def _no_file_above(self, key: str, cut: int) -> bool:
        while cut > 0:
            if key[:cut] in self._files:
                return False
            cut = key.rfind("/", 0, cut)
        return True

    def free(self, name: str) -> bool:
        """Whether file member ``name`` is valid and clashes with nothing claimed so far."""
        if name_problem(name, self._limits) is not None:
            return False
        key = fold(name)
        if key in self._files or key + "/" in self._dirs:
            return False
        return self._no_file_above(key, key.rfind("/"))

    def free_dir(self, directory: str) -> bool:
        """Whether ``directory`` (with its '/') can hold files: valid, and no claimed file has its name."""
        if name_problem(directory + "x", self._limits) is not None:
            return False
        key = fold(directory)
        if key[:-1] in self._files:
            return False
        return self._no_file_above(key, key.rfind("/", 0, len(key) - 1))

    def claim(self, name: str) -> str:
        """Record file member ``name`` (and its parent directories); return it."""
        key = fold(name)
        self._files.add(key)
        cut = key.rfind("/")
        while cut > 0:
            parent = key[: cut + 1]
            if parent in self._dirs:
                break
            self._dirs.add(parent)
            cut = key.rfind("/", 0, cut)
        return name

    def claim_dir(self, directory: str) -> None:
        """Record ``directory`` (with its '/') as a directory, so that no file takes its name."""
        self._dirs.add(fold(directory))
