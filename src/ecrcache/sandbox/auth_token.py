"""GetAuthorizationToken as ECR answers it: a token valid for 12 hours from now, and the
registry endpoint under the region's partition DNS suffix.

moto 5.2 returns a fixed ``expiresAt`` of 2015-01-01 and always ``amazonaws.com``. Real ECR:
"The authorization token is valid for 12 hours" (botocore ECR model, GetAuthorizationToken);
``proxyEndpoint`` is ``https://<account>.dkr.ecr.<region>.<dnsSuffix>``, ``amazonaws.com.cn``
in the aws-cn partition (botocore partitions.json; ECR-FACTS section 7). Callers depend on both:
kubelet's ecr-credential-provider caches a token for half its remaining life (cloud-provider-aws
cmd/ecr-credential-provider/main.go getCacheDuration), so an expiry in the past means no cache,
and ``login`` reports the expiry. The default registry (the caller's account when
``registryIds`` is omitted: "the default registry is assumed", the same model) stays moto's.

The password is shaped as ECR's: base64 of a JSON object with ``payload``, ``datakey``,
``version`` "2", ``type`` "DATA_KEY" and ``expiration`` (epoch seconds), as a decoded
``aws ecr get-login-password`` shows (the "EKS Cluster Games" write-up of Wiz's CTF, 2025:
``{"payload":...,"datakey":...,"version":"2","type":"DATA_KEY","expiration":1757147299}``).
doctor's docker.login check reads the expiry there (moto's ``<account>-auth-token`` has none),
so after ``ecrcache --sandbox login --write-config`` it reports when the login expires. A new
token each call, as ECR gives; ``set_clock`` pins the time for tests that compare tokens.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

TOKEN_LIFETIME = timedelta(hours=12)


def _get_authorization_token(self: Any) -> Any:
    from moto.core.responses import ActionResult

    from ecrcache.config.upstreams import registry_host

    result = _original(self)
    expires = datetime.fromtimestamp(int(_clock()), UTC) + TOKEN_LIFETIME
    data = []
    for item in result.result["authorizationData"]:
        account = item["proxyEndpoint"].removeprefix("https://").split(".", 1)[0]
        item = dict(item, expiresAt=expires, authorizationToken=_token(item, expires))
        item["proxyEndpoint"] = f"https://{registry_host(account, self.region)}"
        data.append(item)
    return ActionResult({"authorizationData": data})


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _token(item: Any, expires: datetime) -> str:
    """``AWS:<password>``, the password ECR-shaped around moto's (opaque, as ECR's payload)."""
    user, _, opaque = base64.b64decode(item["authorizationToken"]).decode().partition(":")
    password = {
        "payload": _b64(opaque),
        "datakey": _b64(f"sandbox-datakey-{opaque}"),
        "version": "2",
        "type": "DATA_KEY",
        "expiration": int(expires.timestamp()),
    }
    return _b64(f"{user}:{_b64(json.dumps(password, separators=(',', ':')))}")


_clock: Callable[[], float] = time.time


def set_clock(clock: Callable[[], float] | None) -> None:
    """Issue tokens as at ``clock()`` (default: now), for tests that compare two tokens."""
    global _clock
    _clock = clock or time.time


_original: Any = None


def install() -> None:
    global _original
    from moto.ecr.responses import ECRResponse

    current = ECRResponse.get_authorization_token
    if current is _get_authorization_token:
        return
    _original = current
    ECRResponse.get_authorization_token = _get_authorization_token  # type: ignore[method-assign]
