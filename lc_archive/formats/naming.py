"""File names of the v1 archive: a slug of the identifier, plus a blake2b suffix on collision.

openedx-core 1.15.2 (``zipper.py``) names container, component and collection TOML files with
``slug(identifier)``, or ``slug(identifier) + "_" + blake2b-3(identifier)`` when that slug was already
used anywhere in the archive. One *used-slug* set is shared by every kind and directory; names are
handed out first come, first served (entities by ref, then collections by creation order), and only
the plain slug is recorded. :class:`NameAllocator` follows that rule exactly for every name the peer
handles correctly, and fixes the cases where the peer writes a broken archive:

* **Empty slug** (codes such as ``_``, ``...``, ``-``): the peer writes ``.toml`` and misplaces the
  version directories. Here the hashed form ``_<hash>`` is used even the first time.
* **Hashed names colliding with real names** (codes ``Foo``, ``foo``, ``foo_359973`` in one
  directory): the peer writes duplicate entries. Here every name handed out is also recorded *per
  directory* (``scope``); a candidate already handed out in its directory is replaced by the hashed
  form, then by longer hashes (blake2b digest sizes 4, 5, ... 32 bytes), then by a numbered suffix.
  Names in different directories never clash, so only same-directory collisions change a name.
* **Length**: the peer has no limit, so a long non-ASCII code exceeds the 255-byte file-name limit
  of common filesystems once ``.toml`` is appended. Here a name longer than
  :data:`MAX_STEM_BYTES` UTF-8 bytes keeps the longest prefix of the slug (cut at a character
  boundary) that fits together with the ``_<hash>`` suffix, where the hash is over the full
  identifier. Names of at most that length are unchanged.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator

from ..archive.names import fold
from ..domain.digests import TextSet

__all__ = ["MAX_STEM_BYTES", "NameAllocator", "hashed_name", "name_digest", "slugify", "utf8_prefix"]

MAX_STEM_BYTES = 200
"""Longest file-name stem (without ``.toml``) in UTF-8 bytes; leaves room below the 255-byte limit."""

_DEFAULT_DIGEST = 3
_MAX_DIGEST = 32
_NON_WORD = re.compile(r"[^\w\s-]")
_DASH_SPACE = re.compile(r"[-\s]+")


def slugify(value: str) -> str:
    """Django's ``slugify(value, allow_unicode=True)``: NFKC, lowercase, ``[\\w\\s-]`` only, dashes."""
    value = unicodedata.normalize("NFKC", value)
    value = _NON_WORD.sub("", value.lower())
    return _DASH_SPACE.sub("-", value).strip("-_")


def name_digest(identifier: str, size: int = _DEFAULT_DIGEST) -> str:
    """The hex blake2b digest (``size`` bytes) of an identifier, as name suffixes use it."""
    return hashlib.blake2b(identifier.encode("utf-8"), digest_size=size).hexdigest()


def utf8_prefix(text: str, max_bytes: int) -> str:
    """The longest prefix of ``text`` whose UTF-8 encoding fits in ``max_bytes``."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[: max(max_bytes, 0)].decode("utf-8", errors="ignore")


def _capped(name: str, slug: str, identifier: str, digest_size: int) -> str:
    if len(name.encode("utf-8")) <= MAX_STEM_BYTES:
        return name
    suffix = "_" + name_digest(identifier, digest_size)
    return utf8_prefix(slug, MAX_STEM_BYTES - len(suffix)) + suffix


def _numbered(base: str, number: int) -> str:
    suffix = f"-{number}"
    return utf8_prefix(base, MAX_STEM_BYTES - len(suffix)) + suffix


def hashed_name(identifier: str) -> str:
    """The peer's ``slugify_hashed_filename``: ``slug + "_" + blake2b-3 hex`` (length-capped here)."""
    slug = slugify(identifier)
    return _capped(f"{slug}_{name_digest(identifier)}", slug, identifier, _DEFAULT_DIGEST)


class NameAllocator:
    """Hands out the file-name stems of one archive (see the module docstring for the rule)."""

    __slots__ = ("_given", "_used_slugs")

    def __init__(self) -> None:
        self._used_slugs = TextSet()
        self._given: dict[str, TextSet] = {}  # scope -> folded stems (SHA-256 keys: ~45 bytes a stem)

    def allocate(self, identifier: str, scope: str = "") -> str:
        """The stem for ``identifier`` in directory ``scope``; call in the peer's naming order."""
        slug = slugify(identifier)
        plain = bool(slug) and slug not in self._used_slugs
        self._used_slugs.add(slug)
        given = self._given.setdefault(scope, TextSet())
        name = next((n for n in self._candidates(identifier, slug, plain) if fold(n) not in given), "")
        if not name:
            base = _capped(f"{slug}_{name_digest(identifier, _MAX_DIGEST)}", slug, identifier, _MAX_DIGEST)
            number = 2
            while fold(name := _numbered(base, number)) in given:
                number += 1
        given.add(fold(name))
        return name

    @staticmethod
    def _candidates(identifier: str, slug: str, plain: bool) -> Iterator[str]:
        if plain:
            yield _capped(slug, slug, identifier, _DEFAULT_DIGEST)
        for size in range(_DEFAULT_DIGEST, _MAX_DIGEST + 1):
            yield _capped(f"{slug}_{name_digest(identifier, size)}", slug, identifier, size)

    def is_given(self, name: str, scope: str = "") -> bool:
        """Whether ``name`` was already handed out in ``scope``."""
        given = self._given.get(scope)
        return given is not None and fold(name) in given
