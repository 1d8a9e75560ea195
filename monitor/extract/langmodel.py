"""py3langid's model, read for a process that holds it for good: small, and read small.

py3langid's loader holds the whole model as it reads it: every language's feature table
(28 MB), its table of moves as numpy and again as an array (39 MB each), and lists of
Python ints; the daemon's memory peaked about 75 MB above what it then kept. ``read_model``
reads the same file (an LZMA'd npz, unpacked to a temporary file as py3langid does) one
member at a time, and the two big ones a slice at a time: the feature table only for the
languages asked for, in float32 (which the scoring casts to anyway), the moves straight
into ``Moves``. Same numbers, so the same scores (tests/test_match_fastpath.py); a file
laid out otherwise gives None, and py3langid's own loader is used instead.
"""

from __future__ import annotations

import lzma
import shutil
import tempfile
import zipfile
from array import array
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple

__all__ = ["Model", "Moves", "read_model"]

_MEMBERS = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")
_SLICE = 1 << 20  # bytes of a big member read at a time


class Moves:
    """py3langid's table of moves (the state after a state and a byte, at the state's row
    plus the byte), held in 2 bytes and a bit per move rather than 4: no state reaches
    2**17. 21 MB instead of 39. Indexed one move at a time as py3langid's own walk
    indexes its table, or ``take``n many at once."""

    __slots__ = ("_high", "_high_at", "_low", "_low_at")

    def __init__(self, size: int, parts: Iterator[Any]) -> None:
        """The ``size`` moves, from arrays of them in order (each a multiple of 8 long
        but the last)."""
        import numpy as np

        self._low = np.empty(size, dtype=np.uint16)
        self._high = np.zeros((size + 7) // 8, dtype=np.uint8)  # one bit per move
        done = 0
        for part in parts:
            if part.size and int(part.max()) >> 17:
                raise ValueError("a language model with states past 2**17")
            self._low[done : done + part.size] = part  # the low 16 bits
            bits = np.packbits(part >> 16, bitorder="little")
            self._high[done // 8 : done // 8 + bits.size] = bits
            done += part.size
        self._low_at, self._high_at = self._low.data, self._high.data

    @classmethod
    def of(cls, table: array[int]) -> Moves:
        """From py3langid's own table (an array of its moves)."""
        import numpy as np

        moves = np.frombuffer(table, dtype=np.dtype(table.typecode))
        return cls(moves.size, (moves[at : at + _SLICE] for at in range(0, moves.size, _SLICE)))

    def __getitem__(self, at: int) -> int:
        return self._low_at[at] | (self._high_at[at >> 3] >> (at & 7) & 1) << 16

    def __len__(self) -> int:
        return len(self._low)

    def take(self, at: Any) -> Any:
        """The moves at an array of places (uint32), as a uint32 array."""
        import numpy as np

        high = self._high.take(at >> 3) >> (at & 7).astype(np.uint8) & 1
        return self._low.take(at).astype(np.uint32) | high.astype(np.uint32) << 16


class Model(NamedTuple):
    """What py3langid's identifier is built from, for the languages asked for."""

    ptc: Any  # features x languages, float32, row-major
    pc: Any  # per language
    classes: list[str]
    moves: Moves
    rows: array[int]  # each state's row of moves
    output: array[int]  # each state's feature, or -1


class _Unknown(Exception):
    """A file laid out otherwise than this reader expects."""


def read_model(path: Path, languages: Collection[str]) -> Model | None:
    """The model in ``path`` for ``languages`` (those of them it knows), or None when the
    file is not laid out as this reader expects."""
    try:
        return _read(path, set(languages))
    except _Unknown:
        return None


def _read(path: Path, languages: set[str]) -> Model:
    import numpy as np

    with tempfile.TemporaryFile(suffix=".npz") as unpacked:
        with lzma.open(path) as packed:
            shutil.copyfileobj(packed, unpacked, length=_SLICE)
        unpacked.seek(0)
        with zipfile.ZipFile(unpacked) as npz:
            if not {f"{name}.npy" for name in _MEMBERS} <= set(npz.namelist()):
                raise _Unknown
            classes = _whole(npz, "classes").tolist()
            kept = [i for i, language in enumerate(classes) if language in languages]
            pc = _whole(npz, "pc")[kept]
            with npz.open("ptc.npy") as member:
                shape, dtype = _header(member)
                if len(shape) != 2 or shape[1] != len(classes):
                    raise _Unknown
                ptc = np.empty((shape[0], len(kept)), dtype=np.float32)
                for at, part in _slices(member, shape, dtype):
                    ptc[at : at + len(part)] = part[:, kept]
            with npz.open("nextmove.npy") as member:
                shape, dtype = _header(member)
                moves = Moves(shape[0], (part for _, part in _slices(member, shape, dtype)))
            rows = _array("I", _whole(npz, "nextmove_row"))
            output = _array("l", _whole(npz, "out_feat"))
    return Model(ptc, pc, [classes[i] for i in kept], moves, rows, output)


def _array(typecode: str, values: Any) -> array[int]:
    """``values`` (a numpy array of ints) as an array of C type ``typecode``, refused
    where that type cannot hold one of them."""
    import numpy as np

    kind = np.dtype(typecode)
    if values.size and not (
        np.iinfo(kind).min <= values.min() and values.max() <= np.iinfo(kind).max
    ):
        raise _Unknown
    return array(typecode, values.astype(kind).tobytes())


def _whole(npz: zipfile.ZipFile, name: str) -> Any:
    import numpy as np

    with npz.open(f"{name}.npy") as member:
        return np.lib.format.read_array(member, allow_pickle=False)


def _header(member: IO[bytes]) -> tuple[tuple[int, ...], Any]:
    """The shape and dtype of a .npy member (C order), its data next to read."""
    import numpy as np

    readers = {
        (1, 0): np.lib.format.read_array_header_1_0,
        (2, 0): np.lib.format.read_array_header_2_0,
    }
    read = readers.get(np.lib.format.read_magic(member))
    if read is None:
        raise _Unknown
    shape, is_fortran, dtype = read(member)
    if is_fortran:
        raise _Unknown
    return shape, dtype


def _slices(member: IO[bytes], shape: tuple[int, ...], dtype: Any) -> Iterator[tuple[int, Any]]:
    """The array a slice of whole rows at a time (a multiple of 8 rows, but the last),
    with the row each starts at."""
    import numpy as np

    row_bytes = dtype.itemsize * int(np.prod(shape[1:], dtype=np.int64))
    per_slice = max(8, _SLICE // row_bytes // 8 * 8)
    for at in range(0, shape[0], per_slice):
        count = min(per_slice, shape[0] - at)
        data = member.read(count * row_bytes)
        if len(data) != count * row_bytes:
            raise ValueError("a language model cut short")
        yield at, np.frombuffer(data, dtype=dtype).reshape((count, *shape[1:]))
