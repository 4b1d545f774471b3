"""One boto3 Session, one botocore Config, the clients built from them, and error translation.

Every client gets adaptive retries (botocore's own throttling back-off: no retry loop here) and
ecrcache's user agent. Core modules take a ``Clients`` object and never build clients themselves.
"""

from __future__ import annotations

import datetime
import html
import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import boto3
import botocore.config
import botocore.credentials
import botocore.exceptions

from ecrcache import __version__, endpointwait
from ecrcache.errors import AwsAccessError, AwsError
from ecrcache.secrecy import redact, redact_url, remember

log = logging.getLogger(__name__)

# botocore logs request parameters at DEBUG, secret values included: never let them through,
# whatever the root logger's level (--debug logs ecrcache's own records, which name calls only).
for _name in ("botocore", "boto3", "urllib3", "s3transfer", "moto", "werkzeug"):
    logging.getLogger(_name).setLevel(logging.WARNING)

# Threads that read or write per repository at once (plan's backfill and application repository
# reads, apply's backfill writes: reconcile/bounded.py). botocore keeps 10 connections per client
# by default, so more threads than that would queue for a connection (or open and drop extra
# ones): the pool is sized to the concurrency.
POOL_CONNECTIONS = 16

# Ten attempts are for throttling; a dead endpoint gets two connection attempts and a silent one
# no second read (endpointwait.py), so a dead endpoint fails in seconds, a silent one in
# read_timeout. AWS's control-plane calls answer in well under a second; 20 s is doctor's bound.
BOTO_CONFIG = botocore.config.Config(
    retries={"mode": "adaptive", "max_attempts": 10},
    max_pool_connections=POOL_CONNECTIONS,
    user_agent_extra=f"ecrcache/{__version__}",
    connect_timeout=5,
    read_timeout=20,
)

SINGLE_ATTEMPT = botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 1})

# Error codes that mean "who you are" or "what you may do", not "what you asked".
ACCESS_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
    }
)
READ_PREFIXES = ("Describe", "List", "Get", "Validate", "BatchGet", "BatchCheck")

# Called with (clients, service, operation, params) before each API call any Clients makes.
# Empty in use; the test suite checks every call against the CI policy with it
# (tests/ci_policy_calls.py).
CallObserver = Callable[["Clients", str, str, dict[str, Any]], None]
CALL_OBSERVERS: list[CallObserver] = []


@dataclass
class Clients:
    """The AWS clients a command needs, built lazily from one session.

    ``calls`` records every API call as ``service.Operation`` (tests count mutating calls with
    it; --debug logs it). ``sleep`` is injected so tests of back-off never wait.
    """

    session: boto3.session.Session
    region: str
    endpoint_url: str | None = None
    sandbox: bool = False
    sleep: Callable[[float], None] = time.sleep
    calls: list[str] = field(default_factory=list)

    def _client(self, service: str) -> Any:
        return self._build(service, BOTO_CONFIG)

    def _build(self, service: str, config: botocore.config.Config) -> Any:
        kwargs: dict[str, Any] = {"region_name": self.region, "config": config}
        if self.endpoint_url:  # one endpoint for all services, as LocalStack-style stacks serve
            kwargs["endpoint_url"] = self.endpoint_url
        # Any: with boto3-stubs installed the overloads reject **kwargs; without them it is Any
        session: Any = self.session
        client = session.client(service, **kwargs)
        self._watch(client)
        return client

    def _watch(self, client: Any) -> None:
        endpointwait.watch_client(client, timed=not self.sandbox)
        client.meta.events.register("before-call.*.*", self._record)
        client.meta.events.register("before-parameter-build.*.*", self._observe)

    def _observe(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        for observer in CALL_OBSERVERS:
            observer(self, model.service_model.service_name, model.name, params)

    def _record(self, model: Any, **_: Any) -> None:
        name = f"{model.service_model.service_name}.{model.name}"
        self.calls.append(name)
        log.debug("AWS call %s", name)

    @property
    def mutating_calls(self) -> list[str]:
        return [c for c in self.calls if not c.split(".", 1)[1].startswith(READ_PREFIXES)]

    @cached_property
    def ecr(self) -> Any:
        return self._client("ecr")

    @cached_property
    def secretsmanager(self) -> Any:
        return self._client("secretsmanager")

    @cached_property
    def sts(self) -> Any:
        return self._client("sts")

    @cached_property
    def iam(self) -> Any:
        return self._client("iam")

    @cached_property
    def iam_single_attempt(self) -> Any:
        """IAM without botocore's retries, for a call that is not idempotent (CreatePolicyVersion):
        a retry after a lost response would make a second version. The caller reads back
        instead (``idempotent.create_once``)."""
        return self._build("iam", BOTO_CONFIG.merge(SINGLE_ATTEMPT))

    @cached_property
    def ce(self) -> Any:
        return self._client("ce")

    @cached_property
    def kms(self) -> Any:
        return self._client("kms")

    @cached_property
    def tagging(self) -> Any:
        """The Resource Groups Tagging API (IAM prefix ``tag``): finds tagged repositories by tag
        in pages of 100, where ECR reads tags one repository at a time."""
        return self._client("resourcegroupstaggingapi")

    @cached_property
    def events(self) -> Any:
        return self._client("events")

    @cached_property
    def sns(self) -> Any:
        return self._client("sns")

    @cached_property
    def logs(self) -> Any:
        return self._client("logs")

    @cached_property
    def budgets(self) -> Any:
        return self._client("budgets")

    @cached_property
    def cloudwatch(self) -> Any:
        """CloudWatch metrics: ECR's RepositoryPullCount (cost/pull_counts.py)."""
        return self._client("cloudwatch")

    @cached_property
    def account_id(self) -> str:
        with aws_errors("identify the caller (sts:GetCallerIdentity)"):
            return str(self.sts.get_caller_identity()["Account"])


def make_session(profile: str | None, region: str | None) -> boto3.session.Session:
    """A boto3 session as the AWS CLI would build it (profile, env, config files)."""
    try:
        return boto3.session.Session(profile_name=profile, region_name=region)
    except botocore.exceptions.ProfileNotFound:
        raise AwsAccessError(
            f"AWS profile {profile!r} not found",
            hint="list profiles with `aws configure list-profiles`",
        ) from None


def error_code(exc: BaseException) -> str | None:
    if isinstance(exc, botocore.exceptions.ClientError):
        return str(exc.response.get("Error", {}).get("Code"))
    return None


# For an AWS error with no more specific advice: every failure has a hint.
OTHER_AWS_HINT = "`ecrcache doctor` checks the set-up; --debug logs the AWS calls"


def translate(exc: BaseException, doing: str) -> AwsError:
    """A boto3/botocore exception as ecrcache's own, in one line with a hint."""
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return AwsAccessError(
            "no AWS credentials found",
            hint="configure them (aws configure, aws sso login, AWS_PROFILE), "
            "or try --sandbox for a simulated account",
        )
    if isinstance(exc, botocore.exceptions.NoRegionError):
        return AwsError("no AWS region", hint="set region in the config or pass --region")
    if isinstance(exc, botocore.exceptions.ConnectionError | botocore.exceptions.ReadTimeoutError):
        return unreachable(exc, doing)
    if isinstance(exc, botocore.exceptions.ClientError):
        code, msg = error_fields(exc.response.get("Error", {}))
        # AWS messages may quote a request value (a secret's): redact before it goes anywhere
        msg = redact(msg)
        op = getattr(exc, "operation_name", None)
        text = f"cannot {doing}: {code}" + (f": {msg}" if msg else "")
        if code in ACCESS_CODES:
            return AwsAccessError(
                text,
                hint="check the credentials and that their policy allows this action "
                "(`ecrcache doctor` lists what each command needs)",
                aws_code=code,
                operation=op,
            )
        return AwsError(text, hint=OTHER_AWS_HINT, aws_code=code, operation=op)
    if isinstance(exc, botocore.exceptions.ResponseParserError):
        # Its text ends with the whole body it could not parse: keep the first line
        return AwsError(
            redact(f"cannot {doing}: {str(exc).splitlines()[0].rstrip(':')}"),
            hint="the endpoint answered in a form AWS does not use: check --endpoint-url",
        )
    if isinstance(exc, botocore.exceptions.BotoCoreError):
        return AwsError(redact(f"cannot {doing}: {_one_line(str(exc))}"), hint=OTHER_AWS_HINT)
    raise exc


_XML_FIELD = {k: re.compile(rf"<{k}>(.*?)</{k}>", re.S) for k in ("Code", "Message")}


def error_fields(err: dict[str, Any]) -> tuple[str, str]:
    """(code, message) of a botocore error, in one line.

    An error body in the other protocol's form (moto answers a JSON-protocol call refused by its
    IAM checks with the query protocol's ``<ErrorResponse>`` XML, a proxy with HTML) reaches
    botocore's JSON parser as text: the code is then the HTTP status and the message the whole
    body. The XML's own Code and Message are taken out of it; other markup is dropped."""
    code = str(err.get("Code") or "Unknown")
    msg = str(err.get("Message") or "").strip()
    if msg.startswith("<"):
        found = {k: rx.search(msg) for k, rx in _XML_FIELD.items()}
        if found["Code"] and (code.isdigit() or code == "Unknown"):
            code = html.unescape(found["Code"].group(1).strip())
        msg = html.unescape(found["Message"].group(1).strip()) if found["Message"] else ""
    return code, _one_line(msg)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def unreachable(exc: botocore.exceptions.BotoCoreError, doing: str) -> AwsError:
    """No answer from the endpoint: one line naming it and how long was waited, and a hint
    that fits a custom endpoint (a sandbox that is not running) or AWS's own."""
    url = redact_url(str(exc.kwargs.get("endpoint_url") or "the endpoint"))
    if isinstance(exc, botocore.exceptions.ReadTimeoutError):
        what = f"{url} accepted the connection but sent no answer in {BOTO_CONFIG.read_timeout} s"
    elif isinstance(exc, botocore.exceptions.ConnectTimeoutError):
        what = f"no connection to {url} within {BOTO_CONFIG.connect_timeout} s"
    elif isinstance(exc, botocore.exceptions.ProxyConnectionError):
        what = f"the proxy for {url} refused the connection"
    elif isinstance(exc, botocore.exceptions.SSLError):
        what = f"TLS with {url} failed"
    else:
        cause = str(exc.kwargs.get("error", "")).lower()
        if "refused" in cause:
            what = f"{url} refused the connection"
        elif any(w in cause for w in ("name or service", "resolution", "nodename", "getaddrinfo")):
            what = f"the host of {url} does not resolve"
        else:
            what = f"cannot connect to {url}"
    if ".amazonaws.com" in url:
        hint = "check the network (and HTTPS_PROXY), and that the region exists"
    else:
        hint = (
            "is the endpoint running? check --endpoint-url and AWS_ENDPOINT_URL "
            "(`ecrcache sandbox serve` prints its URL, or use --sandbox)"
        )
    return AwsError(f"cannot {doing}: {what}", hint=hint)


@contextmanager
def aws_errors(doing: str) -> Iterator[None]:
    """Turn boto3 errors raised inside the block into AwsError naming what was being done."""
    try:
        yield
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise translate(exc, doing) from exc


def assume_role_session(
    session: boto3.session.Session,
    *,
    role_arn: str,
    session_name: str,
    external_id: str | None,
    region: str,
    endpoint_url: str | None = None,
    clock: Callable[[], datetime.datetime] | None = None,
) -> boto3.session.Session:
    """A boto3 Session on ``role_arn``'s temporary credentials, got with ``session``'s, and got
    again before they expire: a run longer than the role's session (1 h by default) goes on.

    botocore's own refreshable credentials do it, as the AWS CLI does for a ``role_arn``
    profile (botocore.credentials.AssumeRoleProvider): an AssumeRoleCredentialFetcher behind
    RefreshableCredentials, which call AssumeRole again 15 min before expiry (from 10 min
    before, every thread waits for it). The first call is made here rather than deferred to
    the first request (the CLI's DeferredRefreshableCredentials), so a role that cannot be
    assumed fails this target now, as one error. Every key pair got, the first and each
    refreshed one, is registered secret (``remember``) before any request is signed with it:
    never logged, printed or put in an error. A role that cannot be assumed (its trust policy
    does not name the caller, the external ID differs, the role does not exist: STS answers
    AccessDenied to all three) is one AwsAccessError naming the caller, so the fix can say whom
    the trust policy must allow.
    ``clock`` (tests): botocore's notion of now, to expire the credentials without waiting."""
    import botocore.session

    kwargs: dict[str, Any] = {"region_name": region, "config": BOTO_CONFIG}
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    any_session: Any = session
    extra: dict[str, Any] = {"RoleSessionName": session_name}
    if external_id is not None:
        extra["ExternalId"] = external_id
    source = session.get_credentials()
    if source is None:
        raise AwsAccessError(
            f"cannot assume {role_arn}: no AWS credentials to call AssumeRole with",
            hint="configure credentials (a profile, the environment, or an instance role)",
            operation="AssumeRole",
        )
    fetcher = botocore.credentials.AssumeRoleCredentialFetcher(
        client_creator=lambda service, **keys: any_session.client(service, **kwargs, **keys),
        source_credentials=source,
        role_arn=role_arn,
        extra_args=extra,
        cache=_NoCache(),  # the refreshable credentials hold them; a refresh must call STS
    )

    def fetch() -> dict[str, Any]:
        creds: dict[str, Any] = fetcher.fetch_credentials()
        for secret in (creds["secret_key"], creds["token"]):
            remember(secret)  # whatever text might quote them later is redacted
        return creds

    try:
        first = fetch()  # the first AssumeRole, now: a role that cannot be assumed fails here
    except botocore.exceptions.ClientError as exc:
        code = error_code(exc)
        if code not in ACCESS_CODES:
            raise translate(exc, f"assume {role_arn}") from None
        caller = _caller_arn(any_session.client("sts", **kwargs))
        raise AwsAccessError(
            f"cannot assume {role_arn}: {code}",
            hint=f"check the role's trust policy allows {caller} and the external id",
            aws_code=code,
            operation="AssumeRole",
        ) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise translate(exc, f"assume {role_arn}") from None
    refreshable = botocore.credentials.RefreshableCredentials(
        access_key=first["access_key"],
        secret_key=first["secret_key"],
        token=first["token"],
        expiry_time=_parse_expiry(first["expiry_time"]),
        refresh_using=fetch,
        method="assume-role",
        account_id=first.get("account_id"),
        **({"time_fetcher": clock} if clock else {}),
    )
    # A failed refresh is raised to the call that needed it (one line with a hint, as any AWS
    # error); botocore would also log it at WARNING with a traceback, printed on stderr.
    logging.getLogger("botocore.credentials").setLevel(logging.ERROR)
    core = botocore.session.Session()
    provider = _Assumed(refreshable)
    core.register_component(
        "credential_provider", botocore.credentials.CredentialResolver([provider])
    )
    return boto3.session.Session(botocore_session=core, region_name=region)


def _parse_expiry(value: str) -> datetime.datetime:
    """The fetcher's ISO 8601 expiry as botocore's refreshable credentials compare it."""
    from botocore.utils import parse_timestamp

    return parse_timestamp(value)


class _NoCache(dict[str, Any]):
    """A cache that holds nothing: the fetcher calls AssumeRole on every refresh."""

    def __contains__(self, key: object) -> bool:
        return False


class _Assumed(botocore.credentials.CredentialProvider):
    """The only credential provider of an assumed role's session: its refreshable credentials
    (never the environment's or a profile's)."""

    METHOD = CANONICAL_NAME = "assume-role"

    def __init__(self, credentials: Any) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> Any:
        return self._credentials


def _caller_arn(sts: Any) -> str:
    try:
        return str(sts.get_caller_identity()["Arn"])
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
        return "the calling identity"
