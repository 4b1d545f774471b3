"""Pages for DescribeImages and ListImages, as ECR serves them (DescribeRepositories is paged,
by name, in repository_pages).

moto 5.2 answers all three with everything at once and ignores ``maxResults``. ECR pages them:
botocore's ECR model (service-2.json, ``DescribeRepositoriesRequest.maxResults``,
``DescribeImagesRequest.maxResults``, ``ListImagesRequest.maxResults``): "This value can be
between 1 and 1000. If this parameter is not used, then DescribeRepositories returns up to 100
results and a nextToken value, if applicable" (the same words for the other two), and "This
option cannot be used when you specify repositories with repositoryNames" (images with
``imageIds``). So a client that leaves the page size alone makes one call per 100 repositories,
and one that asks for 1000 makes a tenth of them: what the sandbox must show for call counts and
benchmarks to mean anything.

The token is the offset of the next item, base64-encoded: stateless, so sandbox state pickles as
before and ThreadedMotoServer's threads share nothing. ECR calls the token opaque; an item
created or deleted between two pages may shift a page by one here, as it may in any offset
listing.
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Callable
from typing import Any

from ecrcache.sandbox.exceptions import InvalidParameterException
from ecrcache.sandbox.models import check_max_results, invalid_next_token

DEFAULT_PAGE = 100  # "If this parameter is not used, ... returns up to 100 results"

# operation handler -> (the listed key in its result, the parameter that names items instead)
_PAGED = {
    "describe_images": ("imageDetails", "imageIds"),
    "list_images": ("imageIds", None),
}
_lock = threading.Lock()


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(token: str) -> int:
    try:
        kind, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        offset = int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid_next_token() from None
    if kind != "offset" or offset < 0:
        raise invalid_next_token()
    return offset


def _paged(original: Callable[[Any], Any], key: str, named: str | None) -> Callable[[Any], Any]:
    def handler(self: Any) -> Any:
        from moto.core.responses import ActionResult

        max_results = self._get_param("maxResults")
        next_token = self._get_param("nextToken")
        if named and self._get_param(named) and (max_results is not None or next_token):
            raise InvalidParameterException(
                f"maxResults and nextToken cannot be used with {named}"  # the sandbox's words
            )
        check_max_results(max_results)
        start = _offset(next_token) if next_token else 0
        result = original(self)
        if named and self._get_param(named):
            return result  # items named one by one: never paged
        body = dict(result.result)
        items = list(body.get(key) or [])
        end = start + (max_results or DEFAULT_PAGE)
        body[key] = items[start:end]
        body.pop("nextToken", None)
        if end < len(items):
            body["nextToken"] = _token(end)
        return ActionResult(body)

    handler.__name__ = original.__name__
    handler._ecrcache_paged = True  # type: ignore[attr-defined]
    return handler


def install() -> None:
    """Wrap the two image listings of moto's ECRResponse (after image_status has replaced two of
    them). Idempotent."""
    from moto.ecr.responses import ECRResponse

    with _lock:
        for name, (key, named) in _PAGED.items():
            current = getattr(ECRResponse, name)
            if not getattr(current, "_ecrcache_paged", False):
                setattr(ECRResponse, name, _paged(current, key, named))
