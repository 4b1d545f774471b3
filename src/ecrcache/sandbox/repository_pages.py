"""DescribeRepositories answers in pages, as ECR does: 100 repositories unless ``maxResults`` asks.

botocore ECR model, ``DescribeRepositoriesRequest.maxResults``: "If this parameter is not used,
then DescribeRepositories returns up to 100 results and a nextToken value, if applicable. This
value can be between 1 and 1000. ... This option cannot be used when you specify repositories
with repositoryNames." moto 5.2 returns every repository in one answer ("maxResults and nextToken
not implemented", moto/ecr/models.py), which hides what a listing of 10,000 repositories costs.

``install()`` replaces moto's response handler: the whole registry is listed in name order, the
token being the last name of the page (stateless: it pickles, and works in ThreadedMotoServer and
across threads). A listing by name is answered whole, as before.
"""

from __future__ import annotations

import base64
import bisect
import threading
from typing import Any

from ecrcache.sandbox.exceptions import InvalidParameterException
from ecrcache.sandbox.models import check_max_results, invalid_next_token

DEFAULT_PAGE = 100
_ORIGINAL_ATTR = "_ecrcache_unpaged_describe_repositories"
_lock = threading.Lock()


def _token(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode()


def _after(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except ValueError:
        raise invalid_next_token() from None


def describe_repositories(self: Any) -> Any:
    from moto.core.responses import ActionResult

    names = self._get_param("repositoryNames")
    registry_id = self._get_param("registryId")
    max_results = self._get_param("maxResults")
    next_token = self._get_param("nextToken")
    if names and (max_results is not None or next_token):
        raise InvalidParameterException(
            "maxResults and nextToken cannot be used when you specify repositoryNames"
        )
    check_max_results(max_results)
    repos = self.ecr_backend.describe_repositories(repository_names=names, registry_id=registry_id)
    if names:
        return ActionResult({"repositories": repos, "failures": []})
    repos = sorted(repos, key=lambda r: r.name)
    start = 0
    if next_token:
        start = bisect.bisect_right([r.name for r in repos], _after(next_token))
    size = max_results or DEFAULT_PAGE
    page = repos[start : start + size]
    result: dict[str, Any] = {"repositories": page}
    if start + size < len(repos):
        result["nextToken"] = _token(page[-1].name)
    return ActionResult(result)


def install() -> None:
    """Page moto's DescribeRepositories. Idempotent."""
    from moto.ecr.responses import ECRResponse

    with _lock:
        if not hasattr(ECRResponse, _ORIGINAL_ATTR):
            setattr(ECRResponse, _ORIGINAL_ATTR, ECRResponse.describe_repositories)
        setattr(ECRResponse, "describe_repositories", describe_repositories)  # noqa: B010
