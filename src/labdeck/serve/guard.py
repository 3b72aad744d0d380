"""Who may use a served labdeck: the access rules, apart from the web server applying them.

Bound to a loopback address the server answers only to loopback host names (so a web page
cannot reach it by pointing its own domain at 127.0.0.1) and needs no token. Bound anywhere
else, every request must carry the one-time token, in the URL (``?token=…``, which the server
then swaps for a same-site cookie) or in that cookie. In both cases a browser's websocket must come from the page's own origin.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from dataclasses import dataclass

COOKIE = "labdeck_token"
TOKEN_BYTES = 24
_HOST_HEADER = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$")


def is_loopback(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 and ::1 (brackets allowed); names are never resolved."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_name(host_header: str) -> str:
    """The name part of a ``Host`` header: ``[::1]:8000`` -> ``::1``, ``a:80`` -> ``a``."""
    if host_header.startswith("["):
        return host_header[1 : host_header.find("]")]
    return host_header.rsplit(":", 1)[0] if ":" in host_header else host_header


def page_url(host: str, port: int, token: str | None) -> str:
    """The URL to open; an IPv6 host gets brackets, a wildcard host is kept as given."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


@dataclass(frozen=True)
class Access:
    bind_host: str
    token: str | None

    @classmethod
    def for_host(cls, bind_host: str) -> Access:
        """No token on loopback; a fresh random one for any other address."""
        token = None if is_loopback(bind_host) else secrets.token_urlsafe(TOKEN_BYTES)
        return cls(bind_host, token)

    def token_ok(self, presented: str | None) -> bool:
        if self.token is None:
            return True
        return presented is not None and secrets.compare_digest(
            presented.encode("utf-8", "replace"), self.token.encode()
        )

    def refusal(
        self,
        *,
        host_header: str,
        origin: str | None,
        websocket: bool,
        query_token: str | None,
        cookie_token: str | None,
    ) -> str | None:
        """Why a request is refused, or None when it may pass."""
        if not _HOST_HEADER.match(host_header):
            return "bad Host header"
        if self.token is None and not is_loopback(host_name(host_header)):
            return "this server answers only to localhost addresses"
        own_origins = (f"http://{host_header}", f"https://{host_header}")
        if websocket and origin is not None and origin not in own_origins:
            return "websocket from another site refused"
        if not (self.token_ok(query_token) or self.token_ok(cookie_token)):
            return "missing or wrong token: open the URL that `labdeck serve` printed"
        return None
