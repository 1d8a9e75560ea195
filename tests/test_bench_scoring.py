"""The scores bench/events_quality.py prints, on a hand-made example small enough to
count by hand (no corpus)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "events_quality.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("events_quality", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["events_quality"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


# gold: a1 a2 a3 | b1 b2 | c1; predicted: {a1 a2} {a3 b1 b2} {c1}
GOLD = {"a1": "A", "a2": "A", "a3": "A", "b1": "B", "b2": "B", "c1": "C"}
PLACED = {"a1": 1, "a2": 1, "a3": 2, "b1": 2, "b2": 2, "c1": 3}


def test_pairwise(bench: ModuleType) -> None:
    # placed together: a1a2, a3b1, a3b2, b1b2 = 4, of which a1a2 and b1b2 are gold pairs;
    # gold pairs: a1a2, a1a3, a2a3, b1b2 = 4
    precision, recall = bench.pairwise(GOLD, PLACED)
    assert precision == pytest.approx(2 / 4)
    assert recall == pytest.approx(2 / 4)


def test_pairwise_without_pairs(bench: ModuleType) -> None:
    singles = {"x": "X", "y": "Y"}
    assert bench.pairwise(singles, {"x": 1, "y": 2}) == (1.0, 1.0)


def test_bcubed(bench: ModuleType) -> None:
    # precision per item: a1 1, a2 1, a3 1/3, b1 2/3, b2 2/3, c1 1 -> 14/3 / 6
    # recall per item: a1 2/3, a2 2/3, a3 1/3, b1 1, b2 1, c1 1 -> 14/3 / 6
    precision, recall, f1 = bench.bcubed(GOLD, PLACED)
    assert precision == pytest.approx(14 / 18)
    assert recall == pytest.approx(14 / 18)
    assert f1 == pytest.approx(14 / 18)


def test_bcubed_all_in_one(bench: ModuleType) -> None:
    precision, recall, f1 = bench.bcubed(GOLD, dict.fromkeys(GOLD, 0))
    assert precision == pytest.approx((3 * 3 + 2 * 2 + 1) / 6 / 6)
    assert recall == 1.0
    assert f1 == pytest.approx(2 * precision / (precision + 1))
