"""numpy behind one module: a text's words -> shingle hashes -> a few small integer
index keys (MinHash).

``shingle_hashes`` hashes every run of ``SHINGLE`` words into 32 bits: the words' own
32-bit hashes, each times an odd 64-bit constant, summed modulo 2**64, the two halves
folded together by xor.

Each article is sketched with a MinHash of ``NUM_PERM`` permutations and stored as that
many keys, one per permutation: ``(permutation << 32) | minimum``. Two articles share the
key of a permutation with probability equal to the Jaccard similarity of their shingle
sets, so a single shared key (an LSH band of one row) already makes them candidates; with
32 keys, a syndicated copy inside a page six times its length (Jaccard ~0.17) is found
with probability 1 - 0.83^32 > 0.99. Candidates are then checked exactly (see copies.py),
so the index only has to be generous, never right.

The keys are plain 64-bit integers stored in the database (``story_keys``), so a lookup
is one indexed query and nothing has to be held in memory or rebuilt after a restart.
The sketch is datasketch's MinHash (2.0, scheme "affine32"): each 32-bit shingle hash
is pre-mixed with the MurmurHash3 finalizer, then permutation k maps it to
``a_k * h + b_k`` modulo 2**32, with ``(a, b)`` drawn from numpy's RandomState(``SEED``)
as datasketch draws them. It is computed here, with numpy, bit for bit the same (a test
compares the two), because importing datasketch loads scipy for the LSH indexes newsmon
does not use: about 55 MB more in a daemon that otherwise stays near 150. The keys
depend on the scheme and ``SEED``: changing either makes old keys unfindable (new
articles would simply not group with older ones).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["NUM_PERM", "SEED", "SHINGLE", "shingle_hashes", "sketch_keys"]

NUM_PERM = 32
SEED = 20261127
SHINGLE = 5  # words per shingle
_MULTIPLIERS = (  # one per word of a shingle
    0x9E3779B97F4A7C15,
    0xC2B2AE3D27D4EB4F,
    0x165667B19E3779F9,
    0xD6E8FEB86659FD93,
    0xFF51AFD7ED558CCD,
)
# MurmurHash3's 32-bit finalizer: (shift, multiplier, shift, multiplier, shift)
_FMIX = (16, 0x85EBCA6B, 13, 0xC2B2AE35, 16)


@lru_cache(maxsize=1)
def _tables() -> tuple[
    npt.NDArray[np.uint64], tuple[np.uint32, ...], npt.NDArray[np.uint32], npt.NDArray[np.uint32]
]:
    """The constants as numpy values, and the permutations: made on first use, so that
    numpy is imported only when a text is first fingerprinted (a poll without new
    entries never is)."""
    import numpy as np

    a, b = _permutations(SEED, NUM_PERM)
    fmix = tuple(np.uint32(v) for v in _FMIX)
    return np.array(_MULTIPLIERS, dtype=np.uint64), fmix, a, b


def shingle_hashes(word_hashes: Sequence[int]) -> list[int]:
    """A 32-bit hash of every run of ``SHINGLE`` words, in order, from the words' 32-bit
    hashes (at least ``SHINGLE`` of them)."""
    import numpy as np

    multipliers = _tables()[0]
    hashed = np.fromiter(word_hashes, np.uint64, len(word_hashes))
    runs = np.lib.stride_tricks.sliding_window_view(hashed, SHINGLE)
    mixed = (runs * multipliers).sum(axis=1, dtype=np.uint64)  # wraps modulo 2**64
    return ((mixed >> np.uint64(32)) ^ (mixed & np.uint64(0xFFFFFFFF))).tolist()  # type: ignore[no-any-return]


def _permutations(seed: int, num_perm: int) -> tuple[npt.NDArray[np.uint32], ...]:
    """(a, b) of each permutation; ``a`` is odd, so ``a * h + b`` is a bijection."""
    import numpy as np

    gen = np.random.RandomState(seed)
    u32 = np.uint32
    a = gen.randint(0, 1 << 31, num_perm, dtype=u32) * u32(2) + u32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=u32)
    return a, b


def minhash(hashes: Sequence[int]) -> npt.NDArray[np.uint32]:
    """The minimum of each permutation over ``hashes`` (a non-empty set of 32-bit ints)."""
    import numpy as np

    _, fmix, a, b = _tables()
    hv = np.array(hashes, dtype=np.uint32).reshape(-1, 1)
    s1, m1, s2, m2, s3 = fmix
    hv = hv ^ (hv >> s1)
    hv = hv * m1  # uint32 arithmetic wraps: modulo 2**32, as intended
    hv = hv ^ (hv >> s2)
    hv = hv * m2
    hv = hv ^ (hv >> s3)
    result: npt.NDArray[np.uint32] = (hv * a + b).min(axis=0)
    return result


def sketch_keys(hashes: Sequence[int]) -> list[int]:
    """One index key per permutation for a set of 32-bit shingle hashes ([] for none)."""
    if not hashes:
        return []
    return [(i << 32) | int(v) for i, v in enumerate(minhash(hashes))]
