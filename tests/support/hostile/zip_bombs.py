"""Class C: bombs: sizes, ratios, counts, overlaps, nested archives (threats.md C30-C35)."""

from __future__ import annotations

from support.zipcraft import DEFLATED, Entry, build, deflate, full_overlap_bomb, quoted_overlap_bomb

from .base import ARCHIVE, GIB, MIB, V2, Case, crafted
from .bombs import deflated_zeros

__all__ = ["cases"]

def _size_claims_zero_inflates_100_mib() -> bytes:
    payload, _ = deflated_zeros(100 * MIB)
    return crafted(Entry(f"{V2}/static/empty.bin", method=DEFLATED, payload=payload, size=0, crc=0))


def _gigabyte_member() -> bytes:
    payload, crc = deflated_zeros(GIB)
    return crafted(Entry(f"{V2}/static/zeros.bin", method=DEFLATED, payload=payload, crc=crc, size=GIB))


def _ratio_10000() -> bytes:
    """Deflated noise-ish data (about 1 KB) declared to inflate 10,000 times larger: a lie, refused unread."""
    payload = deflate(bytes(range(256)) * 4)
    return crafted(Entry(f"{V2}/static/ratio.bin", method=DEFLATED, payload=payload, size=len(payload) * 10_000))


def _many_medium_zero_members() -> bytes:
    """20 members of 1,000,000 zeros: each under the per-member ratio threshold, 1000:1 in total."""
    payload, crc = deflated_zeros(1_000_000)
    return crafted(*[Entry(f"{V2}/static/z{i:02d}.bin", method=DEFLATED, payload=payload, crc=crc,
                           size=1_000_000) for i in range(20)])


def _nested_python_lib_bomb() -> bytes:
    """``static/python_lib.zip``: a valid zip whose one member inflates to 2 GiB of zeros.

    The inner deflate stream (2 MiB) is itself a run of identical blocks, so the outer member holding
    it compresses about 1000:1 again: the per-member ratio limit refuses it from the central
    directory, before the nested zip is opened or stored.
    """
    payload, crc = deflated_zeros(2 * GIB)
    inner = build([Entry("grader/zeros.py", method=DEFLATED, payload=payload, crc=crc, size=2 * GIB, zip64=True)],
                  zip64_end=True).data
    return crafted(Entry(f"{V2}/static/python_lib.zip", inner, method=DEFLATED))


def _member_count_lie() -> bytes:
    """A ZIP64 end record declaring two million entries (the archive holds 9): refused before reading them."""
    return crafted(zip64_end={"entries": 2_000_000, "disk_entries": 2_000_000})



def cases() -> list[Case]:
    """Class C, bombs, in a fixed order."""
    return [
        Case("gigabyte-member", _gigabyte_member, f"{V2}/static/zeros.bin",
             f"declared size of {GIB} bytes is above the per-member limit", "C30 / issue: 1 GB-inflating member"),
        Case("ratio-10000", _ratio_10000, f"{V2}/static/ratio.bin", "declared compression ratio of 10000:1",
             "C30 / issue: 10,000x ratio"),
        Case("many-medium-members", _many_medium_zero_members, ARCHIVE, "declared total compression ratio",
             "C31"),
        Case("full-overlap-bomb", lambda: full_overlap_bomb(1000, unique_names=True), "999",
             "shares its local header (offset 0) with '0'", "C32 / issue: overlapping-entry bomb"),
        Case("quoted-overlap-bomb", lambda: quoted_overlap_bomb(10, MIB), "f000", "overlaps the next entry",
             "C33 / issue: overlapping-entry bomb"),
        Case("member-count", _member_count_lie, ARCHIVE, "the archive declares 2000000 entries, above the limit",
             "C34"),
        Case("member-count-limit-flag", crafted, ARCHIVE, "above the limit of 5",
             "C34 (limit from the CLI)", args=("--max-members", "5")),
        Case("nested-python-lib-bomb", _nested_python_lib_bomb, f"{V2}/static/python_lib.zip",
             "(possible zip bomb)", "C35 / issue: nested python_lib bomb"),
        Case("zero-size-inflates-100mib", _size_claims_zero_inflates_100_mib, f"{V2}/static/empty.bin",
             "data inflates past its declared size of 0 bytes", "B27 / issue: entry claiming 0 bytes"),
    ]
