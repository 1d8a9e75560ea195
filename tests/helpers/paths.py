"""Where the repository and the bundled sample site are."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLE_SITE = REPO / "monitor" / "demo" / "site"
