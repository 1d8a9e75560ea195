"""The kinds of source, in a module light enough for the command line to import."""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["KINDS", "Kind"]

Kind = Literal["feed", "sitemap", "page", "telegram"]
KINDS: tuple[str, ...] = get_args(Kind)
