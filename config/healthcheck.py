"""`python -m config.healthcheck [PORT]`: exit 0 if the app on this machine answers /healthz.

The container's healthcheck. It asks the way the TLS proxy does, with a Host named in
ALLOWED_HOSTS and, when HTTPS=true, `X-Forwarded-Proto: https`: a plain request to 127.0.0.1
would be refused by the host check or redirected to HTTPS, and a healthy app would look dead.
Standard library only: it runs every few seconds and must not start Django.
"""

from __future__ import annotations

import http.client
import os
import sys


def probe_host() -> str:
    for host in os.environ.get("ALLOWED_HOSTS", "").split(","):
        host = host.strip().lstrip(".")  # ".example.com" allows example.com itself too
        if host and "*" not in host:
            return host
    return "localhost"


def probe_headers() -> dict[str, str]:
    headers = {"Host": probe_host()}
    if os.environ.get("HTTPS", "").strip().lower() in {"1", "true", "yes", "on"}:
        headers["X-Forwarded-Proto"] = "https"
    return headers


def main(argv: list[str]) -> int:
    port = int(argv[1]) if len(argv) > 1 else 8000
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/healthz", headers=probe_headers())
        response = connection.getresponse()
        body = response.read()
    except OSError as error:
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    if response.status != 200 or body != b"ok":
        print(f"unhealthy: /healthz answered {response.status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
