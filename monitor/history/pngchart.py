"""A PNG chart of a stats report (matplotlib, Agg backend: no display needed).

matplotlib is an extra (``pip install 'newsmon[plot]'``): the daemon never needs it.
One small panel per group, on one time axis, busiest first, so each group's shape reads
at a glance and the totals compare down the right-hand side.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from monitor.errors import PlotError
from monitor.history.stats import Report

__all__ = ["plot"]

_COLOUR = "#2a6f97"


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise PlotError("--plot needs matplotlib, which is not installed") from None
    matplotlib.use("Agg")
    logging.getLogger("matplotlib").setLevel(logging.WARNING)  # font cache chatter
    import matplotlib.pyplot as plt

    return plt


def plot(report: Report, path: Path, top: int = 8) -> None:
    """Draw ``report`` (its ``top`` busiest groups) as a PNG at ``path``."""
    plt = _pyplot()
    shown = report.series[:top]
    rows = max(1, len(shown))
    fig, axes = plt.subplots(
        rows, 1, sharex=True, squeeze=False, figsize=(10, 1.0 + 0.9 * rows), dpi=120
    )
    starts = [s.replace(tzinfo=None) for s in report.starts]  # local wall time on the axis
    width = (starts[1] - starts[0]) * 0.85 if len(starts) > 1 else 0.8
    for ax, series in zip(axes[:, 0], shown, strict=False):
        ax.bar(starts, series.counts, width=width, align="edge", color=_COLOUR)
        ax.set_ylim(0, max(1, series.peak) * 1.15)
        ax.set_yticks([0, series.peak] if series.peak else [0])
        ax.set_ylabel(series.name, rotation=0, ha="right", va="center", fontsize=9)
        ax.text(1.01, 0.5, f"{series.total:,}", transform=ax.transAxes, va="center", fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=8)
    if not shown:
        axes[0, 0].text(0.5, 0.5, "no alerts", ha="center", va="center")
    more = len(report.series) - len(shown)
    fmt = "%Y-%m-%d %H:%M" if report.bucket == "hour" else "%Y-%m-%d"
    title = (
        f"Alerts per {report.bucket} by {report.by}, {report.starts[0].strftime(fmt)} to "
        f"{report.end.strftime(fmt)} ({report.zone})"
    )
    if more > 0:
        title += f", {len(shown)} busiest of {len(report.series)}"
    fig.suptitle(title, fontsize=11)
    axes[0, 0].text(1.01, 1.05, "total", transform=axes[0, 0].transAxes, fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    try:
        fig.savefig(path, format="png")
    except OSError as exc:
        raise PlotError(f"cannot write {path}: {exc}", "check the path and its folder") from None
    finally:
        plt.close(fig)
