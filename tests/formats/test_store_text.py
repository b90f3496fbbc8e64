"""One text rule for every store: what ``validate`` accepts restores on SQLite *and* PostgreSQL.

Every valid archive of the suite (the sample library, the tiny v1 and v2 archives, the hand-made v2
package with every odd state, a unicode synthetic library, plugin payloads and a code library, the
openedx-core peer's archives when present) is validated, then restored into a fresh SQLite store and
into one PostgreSQL database (``LC_ARCHIVE_PG_URL``), and both stores must give the same full state.
The values only PostgreSQL refuses (class 4 of ``tests/support/hostile/store_text.py``) are refused
by ``validate`` already; here each one is also shown to be something SQLite would have taken, so the
refusal is the rule and not an accident of the archive.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.files import zip_bytes
from support.hostile import Case, store_text
from support.hostile.v2base import tiny_v2
from support.paths import REPO
from support.pg import SKIP, database_on
from support.v1kit import tiny_members
from support.v2kit import REF as HANDMADE
from support.v2kit import handmade_store

from lc_archive import backup, restore, validate
from lc_archive.errors import ArchiveInvalid
from lc_archive.stores import open_store
from lc_archive.synthetic import generate_library
from lc_archive.usecases.state import compute_full_state

WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def _from_store(make: Callable[[Path], tuple[object, str]], fmt: str) -> Callable[[], bytes]:
    def build() -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            store, ref = make(Path(tmp) / "src.db")
            with store:  # type: ignore[attr-defined]
                backup(store, ref, Path(tmp) / "a.zip", format=fmt, created_at=WHEN)  # type: ignore[arg-type]
            return (Path(tmp) / "a.zip").read_bytes()

    return build


def _handmade(path: Path) -> tuple[object, str]:
    return handmade_store(path), HANDMADE


def _unicode(path: Path) -> tuple[object, str]:
    store = open_store(f"sqlite:///{path}")
    generate_library(store, "lib:Uni:CODE", components=40, seed=7, profile="unicode")
    return store, "lib:Uni:CODE"


def _plugins(path: Path) -> tuple[object, str]:
    from lc_archive_tags import ObjectTag, TagsSerializer

    from lc_archive.plugins.payloads import encode_payload

    store = open_store(f"sqlite:///{path}")
    library = zip_bytes({"grader/__init__.py": b"def check(expect, ans):\n    return expect == ans\n"})
    with store.author("lib:Org:PLUG", user="ü" * 150, create={"title": "Plugins"}) as a:
        lib = a.create_component("lc-archive.v1", "code_library", "grader")
        a.add_component_version(lib, {"python_lib.zip": library})
        quiz = a.create_component("xblock.v1", "problem", "quiz")
        a.add_component_version(quiz, {"block.xml": "<problem><script type='loncapa/python'>import grader</script>"
                                                    "</problem>"}, title="t" * 500)
        a.publish(message="m" * 500)
        tag = ObjectTag(taxonomy="subject", value="Optics \x01", lineage=("Physics", "Optics \x01"))
        a.set_payload(encode_payload(TagsSerializer(), [tag], entity=quiz))
    return store, "lib:Org:PLUG"


def _peer_archives() -> dict[str, Callable[[], bytes]]:
    folder = Path(os.environ.get("LC_ARCHIVE_PEER_DIR", REPO.parent / "shared" / "peer")) / "archives"
    found = sorted(folder.glob("*.zip")) if folder.is_dir() else []
    return {f"peer-{p.stem}": (lambda p=p: p.read_bytes()) for p in found[:3]}


VALID: dict[str, Callable[[], bytes]] = {
    "sample-library": (REPO / "testdata" / "sample-library.zip").read_bytes,
    "tiny-v1": lambda: zip_bytes({n: d.encode() if isinstance(d, str) else d for n, d in tiny_members().items()}),
    "tiny-v2": lambda: tiny_v2().build(),
    "handmade-v2": _from_store(_handmade, "v2"),
    "unicode-v2": _from_store(_unicode, "v2"),
    "unicode-v1": _from_store(_unicode, "v1"),
    "plugins-v2": _from_store(_plugins, "v2"),
    **_peer_archives(),
}


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """One brand-new PostgreSQL database for the module (each archive gets its own ref), dropped after."""
    base = os.environ.get("LC_ARCHIVE_PG_URL")
    if not base:
        pytest.skip(SKIP)
    with database_on(base, "lc_text") as url:
        yield url


@pytest.mark.parametrize("name", list(VALID))
def test_every_valid_archive_restores_on_sqlite_and_postgresql(name: str, pg_url: str, tmp_path: Path) -> None:
    data = VALID[name]()
    validate(io.BytesIO(data), strict=False)
    ref = f"lib:Text:{name}"
    states = []
    for url in (f"sqlite:///{tmp_path / 'store.db'}", pg_url):
        with open_store(url) as store:
            restore(io.BytesIO(data), store, ref=ref)
            with store.read(ref) as source:
                states.append(compute_full_state(source))
    assert states[0] == states[1], f"{name}: SQLite and PostgreSQL hold different content"


@pytest.mark.parametrize("case", store_text.cases(), ids=[case.name for case in store_text.cases()])
def test_values_only_postgresql_refuses_are_refused_by_validate(case: Case) -> None:
    with pytest.raises(ArchiveInvalid) as refused:
        validate(io.BytesIO(case.build()))
    assert any(p.member == case.member and case.fragment in f"{p.path}: {p.message}" for p in refused.value.problems)
