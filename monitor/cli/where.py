"""Where the config came from, said the same way by every command that names it."""

from __future__ import annotations

__all__ = ["config_reason"]

_REASONS = {
    "--config": "from --config",
    "NEWSMON_CONFIG": "from NEWSMON_CONFIG",
    "./config/newsmon.toml": "./config/newsmon.toml in this folder",
    "default": "the default",
}


def config_reason(config_from: str) -> str:
    """``'from --config'``, ``'the default'``, ... for an ``Obj.config_from``."""
    return _REASONS.get(config_from, config_from)
