"""The language model read small (monitor.extract.langmodel) is the model py3langid reads."""

from __future__ import annotations

import io
import lzma
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from monitor.extract import langmodel, language
from monitor.extract.langmodel import Moves, read_model
from monitor.extract.language import _KNOWN

TEXTS = [
    "Der russische Vizeaußenminister Sergej Rjabkow hat die NATO erneut gewarnt.",
    "Заступник міністра закордонних справ Росії Рябков знову попередив НАТО.",
    "Замминистра иностранных дел России Рябков снова предупредил НАТО о последствиях.",
    "The OSCE monitoring mission in Ukraine reported new ceasefire violations overnight.",
]


def _reference() -> object:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    reference = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    reference.set_languages(_KNOWN)
    return reference


def test_the_model_read_small_holds_what_py3langid_reads() -> None:
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    reference = _reference()
    model = read_model(MODEL_DIR / MODEL_FILE, _KNOWN)
    assert model is not None
    assert model.classes == reference.nb_classes  # type: ignore[attr-defined]
    assert np.array_equal(model.pc, reference.nb_pc)  # type: ignore[attr-defined]
    assert model.ptc.dtype == np.float32 and model.ptc.flags.c_contiguous
    assert np.array_equal(model.ptc, reference.nb_ptc.astype(np.float32))  # type: ignore[attr-defined]
    table = np.frombuffer(reference.tk_nextmove, dtype=np.uint32)  # type: ignore[attr-defined]
    assert len(model.moves) == table.size
    assert np.array_equal(model.moves.take(np.arange(table.size, dtype=np.uint32)), table)
    assert [model.moves[i] for i in range(0, table.size, 9973)] == table[::9973].tolist()
    assert list(model.rows) == list(reference.tk_row)  # type: ignore[attr-defined]
    assert list(model.output) == list(reference.tk_output)  # type: ignore[attr-defined]


def _packed(path: Path, **arrays: Any) -> Path:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.write_bytes(lzma.compress(buffer.getvalue()))
    return path


def test_a_model_laid_out_otherwise_is_left_to_py3langid(tmp_path: Path) -> None:
    small: dict[str, np.ndarray] = {
        "ptc": np.zeros((4, 2), dtype=np.float16),
        "pc": np.zeros(2, dtype=np.float32),
        "classes": np.array(["de", "en"]),
        "nextmove": np.zeros(512, dtype=np.uint32),
        "nextmove_row": np.zeros(4, dtype=np.uint16),
        "out_feat": np.full(4, -1, dtype=np.int32),
    }
    assert read_model(_packed(tmp_path / "ok.npz.xz", **small), ["de"]) is not None
    older = {k: v for k, v in small.items() if k != "nextmove_row"}
    assert read_model(_packed(tmp_path / "older.npz.xz", **older), ["de"]) is None
    flipped = {**small, "ptc": np.asfortranarray(np.zeros((4, 2), dtype=np.float16))}
    assert read_model(_packed(tmp_path / "fortran.npz.xz", **flipped), ["de"]) is None
    wider = {**small, "ptc": np.zeros((4, 3), dtype=np.float16)}
    assert read_model(_packed(tmp_path / "wider.npz.xz", **wider), ["de"]) is None
    rows = np.array([0, 0, 0, 1 << 33], dtype=np.int64)  # a row its array cannot hold
    assert (
        read_model(_packed(tmp_path / "rows.npz.xz", **{**small, "nextmove_row": rows}), ["de"])
        is None
    )


def test_py3langids_own_loader_gives_the_same_scores(monkeypatch: pytest.MonkeyPatch) -> None:
    read = language._load()
    monkeypatch.setattr(langmodel, "read_model", lambda path, languages: None)
    loaded = language._load()
    assert loaded.nb_ptc.dtype == np.float32 and loaded._full_model is None
    assert isinstance(loaded.tk_nextmove, Moves)
    for text in [*TEXTS, " ".join(TEXTS), "NATO"]:
        data = read._encode(text)
        assert np.array_equal(read._raw_score(data), loaded._raw_score(data)), text
        assert read.classify(text) == loaded.classify(text), text


def test_moves_past_what_17_bits_hold_are_refused() -> None:
    with pytest.raises(ValueError, match="2\\*\\*17"):
        Moves(8, iter([np.full(8, 1 << 17, dtype=np.uint32)]))
    moves = Moves(9, iter([np.arange(8, dtype=np.uint32) << 14, np.array([5], np.uint32)]))
    assert [moves[i] for i in range(9)] == [i << 14 for i in range(8)] + [5]
