"""The address a request really came from, for login throttling (django-axes).

Behind `TRUSTED_PROXY_COUNT` proxies (docker compose: 1, the TLS proxy), REMOTE_ADDR is the
nearest proxy's address, shared by every user. Each proxy appends the address it received the
request from to X-Forwarded-For, so the client's is the `TRUSTED_PROXY_COUNT`-th entry from the
right; anything further left was written by the client and is ignored. Without trusted proxies
the header is ignored entirely (anyone could write it).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ipware.ip import get_client_ip


def client_address(request: HttpRequest) -> str | None:
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        address, _ = get_client_ip(
            request,
            request_header_order=["HTTP_X_FORWARDED_FOR"],
            # ipware counts the proxies listed in the header; the nearest one is not listed
            # there, it is REMOTE_ADDR.
            proxy_count=proxies - 1,
            proxy_order="left-most",
            # Entries a client prepends make the chain longer than the count: still take the
            # trusted position rather than fall back to the proxy's address.
            strict=False,
        )
        if address:
            return address
    address, _ = get_client_ip(request, request_header_order=["REMOTE_ADDR"])
    return address
