"""Spike settings: ``[spikes]`` for every watchlist, ``spike = ...`` per watchlist.

``[spikes] enabled = true`` watches every watchlist; a watchlist's ``spike = false``
leaves it out, ``spike = true`` watches it even when ``[spikes]`` is off, and
``spike = { factor = 5 }`` watches it with some values of its own (the rest from
``[spikes]``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from monitor.units import parse_duration

__all__ = ["SpikeOverride", "SpikeRule", "SpikesSettings", "rule_for"]

# a spike window or baseline: at most a year
_Duration = Annotated[float, BeforeValidator(partial(parse_duration, high=365 * 86400.0))]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class SpikeRule:
    """A watchlist spikes while its alerts in the last ``window`` reach ``factor`` times
    the usual number per window (averaged over the ``baseline`` before it), and at least
    ``min_count``."""

    window: float  # seconds
    baseline: float  # seconds
    factor: float
    min_count: int

    def threshold(self, expected: float) -> float:
        return max(float(self.min_count), self.factor * expected)


def _check(window: float, baseline: float) -> None:
    if baseline < 2 * window:
        raise ValueError("`baseline` must be at least twice as long as `window`")


class SpikeOverride(_Table):
    window: _Duration | None = None
    baseline: _Duration | None = None
    factor: float | None = Field(default=None, ge=1.0, le=1000.0)
    min_count: int | None = Field(default=None, ge=1, le=1_000_000)


class SpikesSettings(_Table):
    enabled: bool = False
    window: _Duration = 3600.0
    baseline: _Duration = 7 * 86400.0
    factor: float = Field(default=3.0, ge=1.0, le=1000.0)
    min_count: int = Field(default=5, ge=1, le=1_000_000)

    @model_validator(mode="after")
    def _lengths(self) -> SpikesSettings:
        _check(self.window, self.baseline)
        return self


def rule_for(spikes: SpikesSettings, spike: bool | SpikeOverride | None) -> SpikeRule | None:
    """The rule a watchlist's ``spike`` setting gives it, or None when it is not watched."""
    if spike is False or (spike is None and not spikes.enabled):
        return None
    own = spike if isinstance(spike, SpikeOverride) else SpikeOverride()
    rule = SpikeRule(
        window=own.window or spikes.window,
        baseline=own.baseline or spikes.baseline,
        factor=own.factor or spikes.factor,
        min_count=own.min_count or spikes.min_count,
    )
    _check(rule.window, rule.baseline)
    return rule
