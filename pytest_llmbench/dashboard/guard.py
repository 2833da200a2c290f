"""What every dashboard request passes before it reaches a page or the API.

- **Where it binds.** Loopback by default; any other host is refused unless a token is given
  (:func:`check_binding`): the dashboard can write keys and start runs.
- **The token.** With one, every request carries it: ``Authorization: Bearer …``, or the cookie
  a first visit to ``/?token=…`` sets (HttpOnly, SameSite=Strict); compared in constant time.
- **Host.** Without a token, a request must name the dashboard by a loopback name in its
  ``Host`` header (so a web page whose own name resolves to 127.0.0.1, DNS rebinding, cannot
  read it).
- **Origin.** A state change comes only by POST, PUT or DELETE, and a browser's request must come
  from the dashboard's own origin (``Origin``, else ``Sec-Fetch-Site``): no other site can make a
  person's browser change anything (CSRF). A GET changes nothing.
- **Headers.** Every answer carries a Content-Security-Policy without any external source, and
  no caching of API answers.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = [
    "CSP", "TOKEN_COOKIE", "TOKEN_ENV", "BindingRefused", "Guard", "check_binding",
    "is_loopback",
]  # fmt: skip

TOKEN_ENV = "LLMBENCH_DASHBOARD_TOKEN"
TOKEN_COOKIE = "llmbench_token"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_CHANGES = {"POST", "PUT", "DELETE", "PATCH"}
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


class BindingRefused(ValueError):
    """A host the dashboard will not listen on as asked (the message says why)."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine's loopback."""
    name = host.strip("[]").lower()
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_binding(host: str, token: str | None) -> None:
    """Refuse a host other than loopback without a token."""
    if not is_loopback(host) and not token:
        raise BindingRefused(
            f"--host {host}: the dashboard writes keys and starts runs; on a host other than "
            f"loopback it needs a token (--token, or {TOKEN_ENV}), and then every request "
            "must carry it"
        )


def _host_name(host_header: str) -> str:
    """The name in a ``Host`` header, without its port."""
    if host_header.startswith("["):
        return host_header[1 : host_header.find("]")]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class Guard:
    """ASGI middleware doing the checks of the module docstring around ``app``."""

    def __init__(self, app: App, token: str | None) -> None:
        self.app, self.token = app, token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await _answer(send, *refusal)
            return

        async def secured(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                named = {k.lower() for k, _ in message.get("headers", [])}
                # a page with a policy of its own (a report: its inline style and script by
                # hash) keeps it; every other answer gets the dashboard's
                policy = [] if b"content-security-policy" in named else [CSP.encode()]
                extra = [
                    *((b"content-security-policy", p) for p in policy),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"SAMEORIGIN"),
                ]
                if scope["path"].startswith("/api/"):
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, secured)

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str] | None:
        """Why this request is refused (status, message), or ``None``."""
        host = headers.get("host", "")
        if self.token is None and not is_loopback(_host_name(host)):
            return 421, f"this dashboard answers to its loopback address only, not {host!r}"
        if self.token is not None and not self._has_token(scope, headers):
            return 401, "a token is needed: open the address with ?token=… or send it as a Bearer"
        if scope["method"] in _CHANGES:
            origin = headers.get("origin")
            if origin is not None and origin != f"{scope.get('scheme', 'http')}://{host}":
                return 403, f"a change must come from this dashboard's own page, not {origin!r}"
            site = headers.get("sec-fetch-site")
            if origin is None and site not in (None, "same-origin", "none"):
                return 403, "a change must come from this dashboard's own page"
        return None

    def _has_token(self, scope: Scope, headers: dict[str, str]) -> bool:
        assert self.token is not None
        given: list[str] = []
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            given.append(auth[7:].strip())
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == TOKEN_COOKIE:
                given.append(value)
        if scope["method"] == "GET" and scope["path"] == "/":
            from urllib.parse import parse_qs

            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            given += query.get("token", [])
        return any(secrets.compare_digest(g.encode(), self.token.encode()) for g in given)


async def _answer(send: Send, status: int, message: str) -> None:
    body = message.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"content-security-policy", CSP.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
