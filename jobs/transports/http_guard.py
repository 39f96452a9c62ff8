"""What the HTTP client guards on every request: credentials stay with their origin, and a download
has an overall deadline.

Credentials: the headers from `headers_env` (an API key may be called anything: `X-Api-Key`,
`Token`...), `Authorization`, `Proxy-Authorization` and `Cookie` are sent only to the origin
(scheme, host, port) the request was made for. httpx strips only `Authorization` when it follows
a redirect to another origin; the request hook below strips all of them. The first request of a
send records its origin in the request's extensions, which httpx hands on to every redirect.

Deadline: `read_timeout` bounds the silence between two reads, so a server dripping a byte every
second never trips it. `download_timeout` bounds the whole body: the reader checks the clock at
every chunk and gives up (a transient fault: the next attempt may be faster) once it is exceeded,
at most one `read_timeout` late.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

import httpx

from jobs.transports.base import TransientFault

ORIGIN = "recon.origin"
ALWAYS_SECRET = ("authorization", "proxy-authorization", "cookie")


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, port


class GuardedClient(httpx.Client):
    """An httpx client that keeps credential headers on their origin and knows its download deadline."""

    def __init__(self, *, secret_headers: Iterable[str] = (), download_timeout: float | None = None, **kw) -> None:
        self.secret_headers = frozenset({*ALWAYS_SECRET, *(h.lower() for h in secret_headers)})
        self.download_timeout = download_timeout
        hooks = kw.pop("event_hooks", None) or {}
        hooks = {**hooks, "request": [self._keep_credentials_home, *hooks.get("request", [])]}
        super().__init__(event_hooks=hooks, **kw)

    def _keep_credentials_home(self, request: httpx.Request) -> None:
        first = request.extensions.setdefault(ORIGIN, origin(request.url))
        if origin(request.url) != first:  # a redirect to another origin: no credentials go there
            for name in [n for n in request.headers if n.lower() in self.secret_headers]:
                del request.headers[name]


def deadline_of(client: httpx.Client) -> float | None:
    return client.download_timeout if isinstance(client, GuardedClient) else None


def within(chunks: Iterable[bytes], seconds: float | None, where: str) -> Iterator[bytes]:
    """The chunks, until `seconds` have passed since the first was asked for."""
    if seconds is None:
        yield from chunks
        return
    started = time.monotonic()
    for chunk in chunks:
        if time.monotonic() - started > seconds:
            raise TransientFault(f"{where}: the download took longer than download_timeout ({seconds:g}s); "
                                 "the server is too slow or stalled")
        yield chunk
