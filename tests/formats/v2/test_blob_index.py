"""The v2 reader's compact blob indexes keep what the dicts of objects they replace kept."""

from __future__ import annotations

import hashlib

from lc_archive.formats.v2.blob_index import Blob, StoredBlobs, Use, Uses


def _sha(i: int) -> str:
    return hashlib.sha256(str(i).encode()).hexdigest()


def test_a_use_keeps_its_first_place_and_its_first_text_and_olx_places() -> None:
    uses = Uses()
    assert uses.note(_sha(1), "a.toml", 0, 1, 10, text=False, olx=False) == -1
    assert uses.note(_sha(2), "a.toml", 0, 2, 20, text=True, olx=True) == -1
    assert uses.note(_sha(1), "b.toml", 3, 4, 11, text=True, olx=False) == 0
    assert uses.note(_sha(1), "c.toml", 5, 6, 10, text=True, olx=True) == 0
    assert uses.note(_sha(2), "c.toml", 7, 8, 20, text=True, olx=True) == 1
    assert uses.use(0) == Use("a.toml", "$.version[0].media[1]", 10, ("b.toml", "$.version[3].media[4]"),
                              ("c.toml", "$.version[5].media[6]"))
    assert uses.use(1) == Use("a.toml", "$.version[0].media[2]", 20, ("a.toml", "$.version[0].media[2]"),
                              ("a.toml", "$.version[0].media[2]"))
    assert [sha for _, sha in uses.rows()] == [_sha(1), _sha(2)]
    assert (uses.size(0), uses.wants_text(0), uses.wants_olx(0), uses.olx_used(_sha(1)), uses.olx_used(_sha(3))) \
        == (10, True, True, True, False)
    fresh = Uses()
    fresh.note(_sha(1), "a.toml", 0, 0, 1, text=False, olx=False)
    assert (fresh.wants_text(0), fresh.wants_olx(0), fresh.use(0).text_at) == (False, False, None)


def test_stored_blobs_hand_their_table_to_the_plan() -> None:
    blobs = StoredBlobs()
    blobs.add(_sha(1), Blob("m1", 5, utf8=True, olx_checked=False))
    blobs.add(_sha(2), Blob("m2", 7, utf8=False, olx_checked=True))
    assert blobs.get(_sha(2)) == Blob("m2", 7, utf8=False, olx_checked=True)
    assert blobs.get(_sha(3)) is None
    assert (blobs.find(_sha(1)), blobs.member(1), blobs.total_size(), len(blobs)) == (0, "m2", 12, 2)
    assert list(blobs.members().items()) == [(_sha(1), "m1"), (_sha(2), "m2")]
