"""Mutating calls whose response may be lost after AWS applied them.

AWS sometimes applies a call and the client never hears back; botocore then retries, and the
retry meets the effect of the first attempt. apply's handlers make every call whose repeat
answers differently (creates, deletes) through one of the three helpers here, so that such a
retry counts as done exactly when the account now holds what the plan wanted, and never creates
a second object:

- ``create``: an "already exists" answer is read back and compared with the plan's object
  (through ``plan.diff``, the same comparison plan makes); equal is done, different is one
  clear error (someone else made it while this apply ran).
- ``delete``: "already gone" (or "already scheduled for deletion", confirmed by reading back)
  is done.
- ``create_once``: for a call that is not idempotent and has no token (IAM
  CreatePolicyVersion), made with botocore's retries off: on an answer that may hide an applied
  call (connection lost, timeout, 5xx, throttling) read back first, and call again only when
  the effect is not there.

Put*/Update*/Tag* calls need none of this: repeating them is harmless. CreateSecret and
PutSecretValue carry a ClientRequestToken that botocore fills in once per call, so a retry
with the same value is ignored by Secrets Manager (API reference, ClientRequestToken).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import replace
from typing import Any, TypeVar

import botocore.exceptions

from ecrcache.aws import Clients, aws_errors, error_code, translate
from ecrcache.errors import AwsError
from ecrcache.reconcile.live import LiveScope
from ecrcache.reconcile.live_policies import read_iam_policies
from ecrcache.reconcile.live_repositories import read_app_repositories, read_templates
from ecrcache.reconcile.live_secrets import read_rules, read_secret_digest
from ecrcache.reconcile.plan import diff
from ecrcache.reconcile.resources import IamPolicy, Repository, Rule, Secret, State, Template

log = logging.getLogger(__name__)

T = TypeVar("T")

# The State field each kind's objects live in (State.of's keywords).
_STATE_FIELD = {
    "secret": "secrets",
    "rule": "rules",
    "template": "templates",
    "repository": "repositories",
    "iam-policy": "iam_policies",
}
THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"}
)
CREATE_ONCE_DELAYS = (1.0, 2.0, 4.0)


def code_of(exc: BaseException) -> str | None:
    """The AWS error code of a botocore error or of ecrcache's translation of one."""
    return exc.aws_code if isinstance(exc, AwsError) else error_code(exc)


def matches(kind: str, want: Any, have: Any | None) -> bool:
    """True when plan would find nothing to change between ``want`` and the live ``have``."""
    if have is None:
        return False
    field = _STATE_FIELD[kind]
    result = diff(State.of(**{field: (want,)}), State.of(**{field: (have,)}))  # type: ignore[arg-type]
    return not result.changes and not result.problems


def create(
    call: Callable[[], T],
    *,
    kind: str,
    want: Any,
    exists: Collection[str],
    read_back: Callable[[], Any | None],
    doing: str,
) -> T | None:
    """``call()``; on an ``exists`` error, done if what is there now is what the plan wanted
    (returns None then), else an AwsError saying it differs."""
    try:
        return call()
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError, AwsError) as exc:
        code = code_of(exc)
        if code not in exists:
            raise exc if isinstance(exc, AwsError) else translate(exc, doing) from None
    with aws_errors(f"read back after {doing}"):
        have = read_back()
    if not matches(kind, want, have):
        raise AwsError(
            f"cannot {doing}: it already exists with other settings ({code})",
            hint="it was made while this apply ran; the next plan shows how it differs",
            aws_code=code,
        )
    log.debug("%s: %s, and it matches the plan: done", doing, code)
    return None


def delete(
    call: Callable[[], Any],
    *,
    gone: Collection[str],
    doing: str,
    scheduled: tuple[str, Callable[[], bool]] | None = None,
) -> None:
    """``call()``; a ``gone`` error is done. ``scheduled`` is (code, check): that error is done
    too when ``check()`` reads back the object as already scheduled for deletion."""
    try:
        call()
        return
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        code = error_code(exc)
        if code in gone:
            log.debug("%s: %s: already gone", doing, code)
            return
        if scheduled is not None and code == scheduled[0]:
            with aws_errors(f"read back after {doing}"):
                if scheduled[1]():
                    log.debug("%s: %s: already scheduled for deletion", doing, code)
                    return
        raise translate(exc, doing) from None


def ambiguous(exc: BaseException) -> bool:
    """May the call have been applied although it failed? (sent but unanswered, or refused in a
    way botocore would retry)."""
    if isinstance(exc, botocore.exceptions.HTTPClientError | botocore.exceptions.ConnectionError):
        return True
    if isinstance(exc, botocore.exceptions.ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return int(status) >= 500 or error_code(exc) in THROTTLING_CODES
    return False


def create_once(
    call: Callable[[], T],
    *,
    landed: Callable[[], bool],
    doing: str,
    sleep: Callable[[float], None],
) -> T | None:
    """A non-idempotent ``call`` made on a client without retries: after an ``ambiguous``
    failure, ``landed()`` reads back whether it took effect (then None is returned); only if
    not is it called again, a few times with growing delays."""
    for delay in (*CREATE_ONCE_DELAYS, None):
        try:
            return call()
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            if not ambiguous(exc):
                raise translate(exc, doing) from None
            log.debug("%s: %s; reading back before trying again", doing, type(exc).__name__)
            with aws_errors(f"read back after {doing}"):
                if landed():
                    return None
            if delay is None:
                raise translate(exc, doing) from None
            sleep(delay)
    raise AssertionError("unreachable")


# --- reading one object back, the way state reads the account for plan -------------------------


def read_secret(clients: Clients, name: str) -> Secret | None:
    """The secret ``name`` as state would read it, with its value's digest; None if absent."""
    try:
        d = clients.secretsmanager.describe_secret(SecretId=name)
    except botocore.exceptions.ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise
    secret = Secret(
        name=d["Name"],
        tags=tuple(sorted((t["Key"], t["Value"]) for t in d.get("Tags", []) or ())),
        pending_deletion="DeletedDate" in d,
        arn=d["ARN"],
    )
    return replace(secret, value=read_secret_digest(clients, secret))


def secret_scheduled_for_deletion(clients: Clients, name: str) -> bool:
    return "DeletedDate" in clients.secretsmanager.describe_secret(SecretId=name)


def read_rule(clients: Clients, prefix: str, secret_arns: dict[str, str]) -> Rule | None:
    arn_to_name = {arn: name for name, arn in secret_arns.items()}
    return next((r for r in read_rules(clients, arn_to_name) if r.prefix == prefix), None)


def read_template(clients: Clients, prefix: str) -> Template | None:
    return next((t for t in read_templates(clients) if t.prefix == prefix), None)


def read_repository(clients: Clients, name: str) -> Repository | None:
    try:
        repos = clients.ecr.describe_repositories(repositoryNames=[name])["repositories"]
    except botocore.exceptions.ClientError as exc:
        if error_code(exc) == "RepositoryNotFoundException":
            return None
        raise
    scope = LiveScope(app_repositories=frozenset({name}))
    found = read_app_repositories(clients, {r["repositoryName"]: r for r in repos}, scope)
    return found[0] if found else None


def read_iam_policy(clients: Clients, name: str) -> IamPolicy | None:
    found = read_iam_policies(clients, frozenset({name}))
    return found[0] if found else None
