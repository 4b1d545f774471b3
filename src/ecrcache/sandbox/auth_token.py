"""GetAuthorizationToken as ECR answers it: a token valid for 12 hours from now, and the
registry endpoint under the region's partition DNS suffix.

moto 5.2 returns a fixed ``expiresAt`` of 2015-01-01 and always ``amazonaws.com``. Real ECR:
"The authorization token is valid for 12 hours" (botocore ECR model, GetAuthorizationToken);
``proxyEndpoint`` is ``https://<account>.dkr.ecr.<region>.<dnsSuffix>``, ``amazonaws.com.cn``
in the aws-cn partition (botocore partitions.json; ECR-FACTS section 7). Callers depend on both:
kubelet's ecr-credential-provider caches a token for half its remaining life (cloud-provider-aws
cmd/ecr-credential-provider/main.go getCacheDuration), so an expiry in the past means no cache,
and ``login`` reports the expiry. Token text and the default registry (the caller's account
when ``registryIds`` is omitted: "the default registry is assumed", the same model) stay moto's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

TOKEN_LIFETIME = timedelta(hours=12)


def _get_authorization_token(self: Any) -> Any:
    from moto.core.responses import ActionResult

    from ecrcache.config.upstreams import registry_host

    result = _original(self)
    expires = datetime.now(UTC) + TOKEN_LIFETIME
    data = []
    for item in result.result["authorizationData"]:
        account = item["proxyEndpoint"].removeprefix("https://").split(".", 1)[0]
        item = dict(item, expiresAt=expires)
        item["proxyEndpoint"] = f"https://{registry_host(account, self.region)}"
        data.append(item)
    return ActionResult({"authorizationData": data})


_original: Any = None


def install() -> None:
    global _original
    from moto.ecr.responses import ECRResponse

    current = ECRResponse.get_authorization_token
    if current is _get_authorization_token:
        return
    _original = current
    ECRResponse.get_authorization_token = _get_authorization_token  # type: ignore[method-assign]
