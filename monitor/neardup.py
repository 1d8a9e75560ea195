"""datasketch behind one module: a text's shingle hashes -> a few small integer index keys.

Each article is sketched with a MinHash of ``NUM_PERM`` permutations and stored as that
many keys, one per permutation: ``(permutation << 32) | minimum``. Two articles share the
key of a permutation with probability equal to the Jaccard similarity of their shingle
sets, so a single shared key (an LSH band of one row) already makes them candidates; with
32 keys, a syndicated copy inside a page six times its length (Jaccard ~0.17) is found
with probability 1 - 0.83^32 > 0.99. Candidates are then checked exactly (see stories.py),
so the index only has to be generous, never right.

The keys are plain 64-bit integers stored in the database (``story_keys``), so a lookup
is one indexed query and nothing has to be held in memory or rebuilt after a restart.
They depend on datasketch's "affine32" permutation scheme and ``SEED``: changing either
makes old keys unfindable (new articles would simply not group with older ones).
"""

from __future__ import annotations

from collections.abc import Sequence

from datasketch import MinHash

__all__ = ["NUM_PERM", "SEED", "sketch_keys"]

NUM_PERM = 32
SEED = 20261127

_EMPTY = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=int)  # shingles come hashed


def sketch_keys(hashes: Sequence[int]) -> list[int]:
    """One index key per permutation for a set of 32-bit shingle hashes ([] for none)."""
    if not hashes:
        return []
    sketch = _EMPTY.copy()
    sketch.update_batch(hashes)
    return [(i << 32) | int(v) for i, v in enumerate(sketch.hashvalues)]
