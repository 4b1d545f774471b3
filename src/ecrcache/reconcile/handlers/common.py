"""What several handlers share: the retry on a propagation race, tag lists and filters.

The retry's delays live here (``PROPAGATION_DELAYS``), where ``with_propagation_retry`` reads
them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ecrcache.aws import error_code, translate
from ecrcache.reconcile.plan import Change

if TYPE_CHECKING:
    from ecrcache.reconcile.apply import ApplyContext

log = logging.getLogger(__name__)

# Secrets Manager → ECR is eventually consistent: a rule created right after its secret can fail
# with SecretNotFoundException. botocore's retry modes do not retry that code, so we do, here only.
PROPAGATION_CODES = frozenset({"SecretNotFoundException", "UnableToAccessSecretException"})
PROPAGATION_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0)


def secret_race(exc: Exception) -> bool:
    return error_code(exc) in PROPAGATION_CODES


def with_propagation_retry(
    ctx: ApplyContext,
    change: Change,
    doing: str,
    call: Callable[[], Any],
    *,
    retryable: Callable[[Exception], bool] = secret_race,
    delays: tuple[float, ...] | None = None,
) -> Any:
    """Call, retrying only a propagation race (by default the secret's), with growing delays."""
    for delay in (*(PROPAGATION_DELAYS if delays is None else delays), None):
        try:
            return call()
        except Exception as exc:
            code = error_code(exc)
            if not retryable(exc) or delay is None:
                raise translate(exc, doing) from None
            log.debug("%s: %s, retrying in %.0fs", doing, code, delay)
            ctx.on_event("retry", change)
            ctx.clients.sleep(delay)
    raise AssertionError("unreachable")


def tag_list(tags: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags]


def filters(patterns: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"filterType": "WILDCARD", "filter": f} for f in patterns]
