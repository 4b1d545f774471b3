"""Checking an ``--endpoint-url`` (or ``AWS_ENDPOINT_URL``) before botocore sees it.

botocore raises a bare ValueError ("Invalid endpoint: ...", quoting the URL and any password in
it) when it builds the first client, and urllib3 another one for a bad port at the first call.
This applies botocore's own rule up front (botocore/endpoint.py ``create_endpoint``:
``is_valid_endpoint_url`` or ``is_valid_ipv6_endpoint_url``; the host pattern below is copied
from botocore/utils.py) plus a port check, and says what is wrong without echoing credentials.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from ecrcache.errors import UsageError
from ecrcache.secrecy import redact_url

# botocore/utils.py is_valid_endpoint_url: DNS labels of letters, digits and inner hyphens.
_HOST = re.compile(r"^((?!-)[A-Z\d-]{1,63}(?<!-)\.)*((?!-)[A-Z\d-]{1,63}(?<!-))$", re.IGNORECASE)
_UNSAFE = frozenset("\t\r\n")  # botocore.utils.UNSAFE_URL_CHARS
_HINT = "give a URL such as http://127.0.0.1:5000 or https://ecr.af-south-1.amazonaws.com"


def check_endpoint_url(url: str, *, option: str = "--endpoint-url") -> str:
    """``url`` unchanged when botocore and urllib3 will accept it; else UsageError."""

    def bad(why: str) -> UsageError:
        return UsageError(f"{option} {redact_url(url)!r}: {why}", hint=_HINT)

    if _UNSAFE.intersection(url) or any(c.isspace() for c in url):
        raise UsageError(f"{option}: the URL contains spaces or control characters", hint=_HINT)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # "Port out of range 0-65535", "Invalid IPv6 URL", ...
        raise bad(str(exc).lower()) from None
    if parts.scheme not in ("http", "https"):
        raise bad("must start with http:// or https://")
    host = parts.hostname
    if not host:
        raise bad("has no host name")
    if port == 0 or (port is None and parts.netloc.rsplit("@", 1)[-1].endswith(":")):
        raise bad("has an empty or zero port")
    if not _valid_host(host):
        raise bad(f"{host!r} is not a valid host name or IP address")
    return url


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        return True
    except ValueError:
        pass
    name = host[:-1] if host.endswith(".") else host
    return len(name) <= 255 and _HOST.match(name) is not None
