"""STS AssumeRole refuses a session longer than the role allows, as AWS does.

moto 5.2.5 hands out a session of any DurationSeconds up to the model's 43200, whatever the
role's MaxSessionDuration (3600 unless set). AWS, per the AssumeRole API reference (botocore's
sts model, AssumeRoleRequest.DurationSeconds: "from 900 seconds (15 minutes) up to the maximum
session duration set for the role ... If you specify a value higher than this setting ... the
operation fails", and "Role chaining limits your ... role session to a maximum of one hour"),
answers 400 ValidationError "The requested DurationSeconds exceeds the MaxSessionDuration set
for this role." or, when the caller is itself an assumed role, "The requested DurationSeconds
exceeds the 1 hour session limit for roles assumed by role chaining." (the messages as AWS
sends them, quoted in user reports and other emulators). So a sandbox session lasts what a real
one can, and a run that outlives it needs the refresh ``aws.assume_role_session`` does.
Class-level wrap of moto's STS response: works in the mock and in ThreadedMotoServer, holds no
state to pickle.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

_WRAPPED = "_ecrcache_duration"
CHAINED_MAX = 3600  # role chaining: one hour, whatever the role allows


def _max_session(role_arn: str, region: str) -> int | None:
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    parts = role_arn.split(":", 5)
    if len(parts) != 6 or not parts[4].isdigit():
        return None
    iam = iam_backends[parts[4]][get_partition(region)]
    role = next((r for r in list(iam.roles.values()) if r.arn == role_arn), None)
    if role is None:
        return None
    try:
        return int(role.max_session_duration or 3600)
    except (TypeError, ValueError):
        return 3600


def _assume_role(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def assume_role(self: Any) -> Any:
        from moto.sts.exceptions import STSValidationError

        asked = self._get_param("DurationSeconds")
        if asked is not None:
            seconds = int(asked)
            caller = self.backend.get_caller_identity(self.get_access_key(), self.region)[1]
            if ":assumed-role/" in caller and seconds > CHAINED_MAX:
                raise STSValidationError(
                    "The requested DurationSeconds exceeds the 1 hour session limit for roles "
                    "assumed by role chaining."
                )
            limit = _max_session(self._get_param("RoleArn") or "", self.region)
            if limit is not None and seconds > limit:
                raise STSValidationError(
                    "The requested DurationSeconds exceeds the MaxSessionDuration set for this "
                    "role."
                )
        return original(self)

    setattr(assume_role, _WRAPPED, True)
    return assume_role


def install() -> None:
    """Wrap moto's STS AssumeRole (class-level). Idempotent."""
    from moto.sts.responses import TokenResponse

    if not getattr(TokenResponse.assume_role, _WRAPPED, False):
        TokenResponse.assume_role = _assume_role(TokenResponse.assume_role)  # type: ignore[method-assign]
