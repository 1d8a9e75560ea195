"""URL identity: two links that name the same page get the same key.

Rules: lower-case scheme and host, drop default ports, userinfo and the fragment,
drop tracking parameters (utm_*, fbclid, gclid, ...), sort the remaining query,
and treat http and https as the same page.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["url_key"]

_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "piwik_", "matomo_", "_hs")
_TRACKING = {
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "igshid",
    "mkt_tok",
    "ref_src",
    "cmpid",
    "ocid",
    "at_medium",
    "at_campaign",
    "smid",
    "_ga",
}
_DEFAULT_PORTS = {"http": 80, "https": 443}


def url_key(url: str) -> str:
    """A normalised form of ``url`` used as the article's identity."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    if port and port not in _DEFAULT_PORTS.values():  # http and https are one, so are 80 and 443
        host = f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in _TRACKING and not k.lower().startswith(_TRACKING_PREFIXES)
    ]
    path = parts.path or "/"
    if scheme in ("http", "https"):
        scheme = "http"
    return urlunsplit((scheme, host, path, urlencode(sorted(query)), ""))
