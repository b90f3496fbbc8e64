"""The examples in docs/formats/v2.md are real: each is a member (or part of one) of the archive that
lc-archive writes for the sample library (testdata/build_sample.py) with its fixed backup time.

Markers in the Markdown, on the line before a fenced block:

* ``<!-- example: NAME -->``: the block is the whole text of member NAME;
* ``<!-- excerpt: NAME -->``: the block is a contiguous part of member NAME;
* ``<!-- listing -->``: the block is the archive's member listing (:func:`listing`);
* ``<!-- illustration -->``: not from the archive (layout trees, grammar); not checked.

Every fenced block must carry one of them, so no example goes unchecked.
"""

from __future__ import annotations

import importlib.util
import re
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
from support.paths import REPO
from support.v2kit import backup_v2

from lc_archive.archive.zip_reader import ArchiveReader
from lc_archive.formats.v2 import read_v2
from lc_archive.stores import open_store
from lc_archive.synthetic import SyntheticClock

SPEC = REPO / "docs" / "formats" / "v2.md"
_BLOCK = re.compile(r"^(?:<!-- (example|excerpt): (\S+) -->|<!-- (listing|illustration) -->)?\n?```(\w*)\n(.*?)^```$",
                    re.MULTILINE | re.DOTALL)
_FENCE = re.compile(r"^```\w*$", re.MULTILINE)


def _load_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_sample", REPO / "testdata" / "build_sample.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_sample_v2(path: Path) -> Path:
    """The sample library, authored exactly as build_sample.py does, written as v2."""
    bs = _load_builder()
    with open_store(f"sqlite:///{path.with_suffix('.db')}") as store:
        with store.author(bs.REF, user="alice", create={"title": bs.TITLE, "description": bs.DESCRIPTION},
                          clock=SyntheticClock(bs.START, 61)) as a:  # fmt: skip
            bs.author_sample(a)
        backup_v2(store, bs.REF, path, created_at=bs.BACKUP_AT)
    return path


def listing(path: Path) -> str:
    """One line per member: name, method, size -> compressed size, DOS timestamp."""
    lines = []
    with zipfile.ZipFile(path) as z:
        for i in z.infolist():
            method = "DEFLATE" if i.compress_type == zipfile.ZIP_DEFLATED else "STORED"
            stamp = "{:04}-{:02}-{:02} {:02}:{:02}:{:02}".format(*i.date_time)
            lines.append(f"{i.filename:<64} {method:<7} {i.file_size:>5} → {i.compress_size:>4}  {stamp}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sample_v2(tmp_path_factory.mktemp("spec") / "sample-v2.zip")


def _blocks() -> list[tuple[str, str, str]]:
    text = SPEC.read_text(encoding="utf-8")
    found = [(m.group(1) or m.group(3) or "", m.group(2) or "", m.group(5)) for m in _BLOCK.finditer(text)]
    assert len(found) * 2 == len(_FENCE.findall(text)), "a fenced block the pattern did not understand"
    return found


def test_every_block_is_marked_and_real(sample: Path) -> None:
    blocks = _blocks()
    unmarked = [body[:60] for kind, _, body in blocks if not kind]
    assert not unmarked, f"fenced blocks without a marker in docs/formats/v2.md: {unmarked}"
    kinds = {kind for kind, _, _ in blocks}
    assert {"example", "excerpt", "listing"} <= kinds
    with zipfile.ZipFile(sample) as z:
        names = set(z.namelist())
        for kind, name, body in blocks:
            if kind in ("example", "excerpt"):
                assert name in names, f"docs/formats/v2.md shows {name}, which the sample archive does not have"
                data = z.read(name).decode("utf-8")
                if kind == "example":
                    assert body == data, f"docs/formats/v2.md's {name} differs from the archive's:\n{data}"
                else:
                    assert body in data, f"docs/formats/v2.md's excerpt of {name} is not in the archive's:\n{data}"
            elif kind == "listing":  # compressed sizes depend on the zlib build: compared loosely
                assert _loose(body) == _loose(listing(sample)), (
                    f"docs/formats/v2.md's listing is stale:\n{listing(sample)}")


def test_every_document_kind_has_an_example() -> None:
    shown = {name for kind, name, _ in _blocks() if kind in ("example", "excerpt")}
    assert "package.toml" in shown and "publish_log.toml" in shown and "manifest.json" in shown
    assert any(n.startswith("collections/") for n in shown)
    assert any(n.count("/") == 1 and n.startswith("entities/") for n in shown)  # a container
    assert any(n.count("/") == 3 for n in shown)  # a component


def _loose(text: str) -> str:
    return re.sub(r"→ +\d+", "→ N", text)


def test_the_sample_numbers_in_the_text(sample: Path) -> None:
    text = SPEC.read_text(encoding="utf-8")
    members = len(zipfile.ZipFile(sample).namelist())
    match = re.search(rf"holds {members} members and is ([\d,]+) bytes", text)
    assert match, f"docs/formats/v2.md should say the sample archive holds {members} members"
    size = int(match.group(1).replace(",", ""))
    assert abs(size - sample.stat().st_size) <= size // 50, (size, sample.stat().st_size)  # zlib builds differ
    with ArchiveReader(sample) as reader, read_v2(reader) as plan:
        assert plan.summary().distinct_blobs == 25
