"""Cheap bombs: deflated zeros made in time linear in the *compressed* size, with their CRC-32.

Bombs stay small on disk: deflated zeros are made by repeating one fully-flushed deflate block, and
their CRC-32 is computed arithmetically (:func:`crc32_zeros`), so a 1 GiB member costs about 1 MB and
a few milliseconds.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from .base import MIB

__all__ = ["crc32_combine", "crc32_zeros", "deflated_zeros"]

def _gf2_times(matrix: Sequence[int], vector: int) -> int:
    total = 0
    row = 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector >>= 1
        row += 1
    return total


def _gf2_square(matrix: Sequence[int]) -> list[int]:
    return [_gf2_times(matrix, matrix[n]) for n in range(32)]


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """CRC-32 of A+B from crc(A), crc(B) and len(B) (zlib's ``crc32_combine``, which Python lacks)."""
    if len2 <= 0:
        return crc1
    odd = [0xEDB88320] + [1 << n for n in range(31)]  # the operator for one zero bit
    even = _gf2_square(odd)  # two zero bits
    odd = _gf2_square(even)  # four zero bits
    while True:
        even = _gf2_square(odd)
        if len2 & 1:
            crc1 = _gf2_times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = _gf2_square(even)
        if len2 & 1:
            crc1 = _gf2_times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return crc1 ^ crc2


def crc32_zeros(size: int) -> int:
    """CRC-32 of ``size`` zero bytes, in O(log size) without making them."""
    crc, have = 0, 0  # crc of ``have`` zeros
    block_crc, block = zlib.crc32(bytes(1)), 1  # crc of ``block`` zeros, block = 2**k
    while size:
        if size & 1:
            crc = crc32_combine(crc, block_crc, block) if have else block_crc
            have += block
        size >>= 1
        block_crc = crc32_combine(block_crc, block_crc, block)
        block *= 2
    return crc


_CHUNK = MIB


def deflated_zeros(size: int) -> tuple[bytes, int]:
    """(raw deflate stream of ``size`` zero bytes, their CRC-32), made in time linear in the *output*.

    One MiB of zeros is compressed and fully flushed (which resets the compressor, so every further
    MiB compresses to the same bytes); that block is repeated, then the remainder and the final block.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(_CHUNK)) + compressor.flush(zlib.Z_FULL_FLUSH)
    count, rest = divmod(size, _CHUNK)
    tail_compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    tail = tail_compressor.compress(bytes(rest)) + tail_compressor.flush()
    return block * count + tail, crc32_zeros(size)

