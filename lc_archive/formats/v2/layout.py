"""Where everything is in a v2 archive: member names for the writer, member kinds for the reader.

The layout (``docs/formats/v2.md`` §2)::

    package.toml
    entities/<container-stem>.toml
    entities/<namespace>/<type>/<component-stem>.toml
    entities/<namespace>/<type>/<component-stem>/v<N>/<media path>     a blob, at its first use only
    collections/<collection-stem>.toml
    publish_log.toml
    plugins/<plugin>/...json                                           plugin payloads
    x/...                                                              reserved for extensions
    manifest.json                                                      always the last member

There are no directory entries. Identities come from the TOML keys, never from names: the reader
only sorts members into kinds by their shape (:func:`classify`).

The writer's :class:`MemberNames` hands out names that the reader's ZIP pre-flight accepts whatever
the content: stems follow v1's :class:`~lc_archive.formats.v1.names.NameAllocator` rule, and
every name is also checked against the pre-flight's name rules (NFC, no control characters, ``\\``
or ``:``, length and depth limits) and against every name already given after Unicode case folding,
file/directory clashes included. A stem, namespace or type folder that fails gets a hashed form; a
blob whose media path fails is stored under ``v<N>/_blobs/<sha256>`` instead (its media record keeps
the real path).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

from ...archive.limits import DEFAULT_LIMITS, Limits
from ...archive.names import NameClaims, name_problem
from ...plugins.payload_members import is_payload_member
from ..naming import MAX_STEM_BYTES, NameAllocator, name_digest, slugify, utf8_prefix
from .detect import MANIFEST, PACKAGE

__all__ = [
    "BLOB_FALLBACK_DIR",
    "COLLECTIONS",
    "ENTITIES",
    "EXTENSIONS",
    "MANIFEST",
    "PACKAGE",
    "PUBLISH_LOG",
    "MemberKind",
    "MemberNames",
    "Placed",
    "classify",
]

PUBLISH_LOG = "publish_log.toml"
ENTITIES = "entities/"
COLLECTIONS = "collections/"
EXTENSIONS = "x/"
BLOB_FALLBACK_DIR = "_blobs"
"""Blobs whose media path cannot be a member name go to ``v<N>/_blobs/<sha256>``."""

_VERSION_DIR = re.compile(r"v([1-9][0-9]{0,9})")


class MemberKind(Enum):
    """What a member of a v2 archive is, judged by its name alone."""

    PACKAGE = "package"
    PUBLISH_LOG = "publish_log"
    MANIFEST = "manifest"
    CONTAINER = "container"
    COMPONENT = "component"
    BLOB = "blob"
    COLLECTION = "collection"
    PAYLOAD = "payload"
    EXTENSION = "extension"
    DIRECTORY = "directory"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Placed:
    """A member's kind (and, for a blob, the version number of its folder)."""

    kind: MemberKind
    version: int = 0


def classify(name: str) -> Placed:
    """The kind of member ``name`` (no I/O; the pre-flight has already checked the name)."""
    if name.endswith("/"):
        return Placed(MemberKind.DIRECTORY)
    if name == PACKAGE:
        return Placed(MemberKind.PACKAGE)
    if name == PUBLISH_LOG:
        return Placed(MemberKind.PUBLISH_LOG)
    if name == MANIFEST:
        return Placed(MemberKind.MANIFEST)
    if name.startswith(EXTENSIONS):
        return Placed(MemberKind.EXTENSION)
    if is_payload_member(name):
        return Placed(MemberKind.PAYLOAD)
    parts = name.split("/")
    if parts[0] == "collections" and len(parts) == 2 and name.endswith(".toml"):
        return Placed(MemberKind.COLLECTION)
    if parts[0] == "entities":
        if len(parts) == 2 and name.endswith(".toml"):
            return Placed(MemberKind.CONTAINER)
        if len(parts) == 4 and name.endswith(".toml"):
            return Placed(MemberKind.COMPONENT)
        if len(parts) >= 6 and (match := _VERSION_DIR.fullmatch(parts[4])):
            return Placed(MemberKind.BLOB, int(match.group(1)))
    return Placed(MemberKind.UNKNOWN)


def _hashed_stems(identifier: str) -> Iterator[str]:
    """Fallback stems: ``<slug>_<blake2b>`` with growing digests, then a bare hash."""
    slug = slugify(identifier)
    for size in range(4, 33):
        suffix = "_" + name_digest(identifier, size)
        yield utf8_prefix(slug, MAX_STEM_BYTES - len(suffix)) + suffix
    yield "_" + name_digest(identifier, 32)


class MemberNames:
    """Hands out the member names of one archive being written (see the module docstring).

    Call in the writer's order: the names depend on who asked first, exactly as v1's do.
    """

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self._claims = NameClaims(limits)
        self._limits = limits
        self._stems = NameAllocator()
        self._folders: dict[tuple[str, str], str] = {}  # (namespace, type) -> entities/<ns>/<type>
        # The names under the folder of the component named last: only its blobs go there, so they can
        # clash with nothing else and are forgotten with the next component (260,000 names and as many
        # v<N>/ folders at 100,000 components).
        self._blob_base = ""
        self._blob_claims = NameClaims(limits, compact=False)
        for name in (PACKAGE, PUBLISH_LOG, MANIFEST):
            self._claims.claim(name)
        for directory in (ENTITIES, COLLECTIONS, EXTENSIONS):
            self._claims.claim_dir(directory)

    def _stem(self, identifier: str, scope: str) -> Iterator[str]:
        yield self._stems.allocate(identifier, scope)
        yield from _hashed_stems(identifier)

    # -- names -----------------------------------------------------------------------------------

    def container(self, ref: str) -> str:
        """``entities/<stem>.toml`` for a container (stems allocated by ref, as in v1)."""
        for stem in self._stem(ref, "entities"):
            name = f"{ENTITIES}{stem}.toml"
            if self._claims.free(name):
                return self._claims.claim(name)
        raise AssertionError("unreachable: a bare hash stem is always free")  # pragma: no cover

    def _segment(self, value: str) -> str:
        if value and value not in (".", "..") and "/" not in value and name_problem(value, self._limits) is None:
            return value
        return "_" + name_digest(value, 8)

    def component(self, namespace: str, type: str, code: str) -> str:
        """``entities/<namespace>/<type>/<stem>`` for a component: its TOML is that plus ``.toml``,
        its blobs live under that plus ``/v<N>/``. Stems are allocated by code, per folder, as in v1."""
        folder = self._folders.get((namespace, type))
        if folder is None:
            folder = f"{ENTITIES}{self._segment(namespace)}/{self._segment(type)}"
            if not self._claims.free_dir(folder + "/"):
                folder = f"{ENTITIES}_{name_digest(namespace + ':' + type, 12)}/_"
            self._folders[namespace, type] = folder
        for stem in self._stem(code, folder.removeprefix(ENTITIES)):
            base = f"{folder}/{stem}"
            claims = self._claims
            if claims.free(base + ".toml") and claims.free(base) and claims.free_dir(base + "/"):
                self._claims.claim(base + ".toml")
                self._claims.claim_dir(base + "/")
                self._blob_base, self._blob_claims = base, NameClaims(self._limits, compact=False)
                return base
        raise AssertionError("unreachable: a bare hash stem is always free")  # pragma: no cover

    def collection(self, code: str) -> str:
        """``collections/<stem>.toml`` (allocated after every entity, in the store's order)."""
        for stem in self._stem(code, "collections"):
            name = f"{COLLECTIONS}{stem}.toml"
            if self._claims.free(name):
                return self._claims.claim(name)
        raise AssertionError("unreachable: a bare hash stem is always free")  # pragma: no cover

    def blob(self, base: str, number: int, path: str, sha256: str) -> str:
        """Where a blob first used as ``path`` of version ``number`` of component ``base`` goes (claimed
        among the names under ``base``'s folder when it is the component named last)."""
        claims = self._blob_claims if base == self._blob_base else self._claims
        name = f"{base}/v{number}/{path}"
        if claims.free(name):
            return claims.claim(name)
        fallback = f"{base}/v{number}/{BLOB_FALLBACK_DIR}"
        k = 1
        while not claims.free(name := f"{fallback}/{sha256}"):
            k += 1
            fallback = f"{base}/v{number}/{BLOB_FALLBACK_DIR}-{k}"
        return claims.claim(name)
