"""One exception tree for everything a user can see go wrong.

Each class carries its exit code, so the CLI never has to guess one. A message is one line that
says what is wrong; ``hint`` says what to do about it. Neither ever contains a credential.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Exit codes: the README's table (tests/cli/test_exit_codes_table.py holds them together).
# 2 is click's usage code too, so bad input of any kind exits the same way.
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_AWS_ACCESS = 3
EXIT_AWS = 4
EXIT_UNSAFE = 5
EXIT_INTERRUPTED = 130


class EcrcacheError(Exception):
    """Base class: a failure the user should see as one line and an optional hint."""

    exit_code = EXIT_FAILURE
    code = "error"
    # What the command had produced when it failed (test-pull's result): the envelope's `data`.
    data: Mapping[str, Any] | None = None
    warnings: tuple[str, ...] = ()

    def __init__(
        self, message: str, *, hint: str | None = None, details: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        # Further problems of the same kind (a config with several mistakes), one line each.
        self.details = details


class UsageError(EcrcacheError):
    """Bad command-line input."""

    exit_code = EXIT_USAGE
    code = "usage"


class ConfigError(EcrcacheError):
    """The config file is missing, unreadable or invalid."""

    exit_code = EXIT_USAGE
    code = "config"


class CredentialSourceError(EcrcacheError):
    """A secret value could not be read from its declared source (env, file, stdin, command)."""

    exit_code = EXIT_USAGE
    code = "credential-source"


class InvalidReferenceError(EcrcacheError):
    """An image reference does not follow the reference grammar."""

    exit_code = EXIT_USAGE
    code = "reference"


class AwsError(EcrcacheError):
    """An AWS call failed for a reason that is not about credentials or permissions."""

    exit_code = EXIT_AWS
    code = "aws"

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        aws_code: str | None = None,
        operation: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.aws_code = aws_code
        self.operation = operation


class AwsAccessError(AwsError):
    """No credentials, expired credentials, or access denied."""

    exit_code = EXIT_AWS_ACCESS
    code = "aws-access"


class WrongAccountError(AwsAccessError):
    """The config's account_id is not the account of the credentials: a credentials problem."""

    code = "wrong-account"


class UnsafePlanError(EcrcacheError):
    """The plan needs --force, crosses a safety threshold, or differs from the reviewed checksum."""

    exit_code = EXIT_UNSAFE
    code = "unsafe-plan"


class ApplyError(EcrcacheError):
    """apply stopped part-way; ``applied`` lists what had been done before the failure."""

    exit_code = EXIT_FAILURE
    code = "apply-failed"

    def __init__(
        self, message: str, *, hint: str | None = None, applied: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message, hint=hint)
        self.applied = applied


class Cancelled(EcrcacheError):
    """The user answered no (apply's prompt): nothing was done, and it is not a success."""

    exit_code = EXIT_FAILURE
    code = "cancelled"


class InternalError(EcrcacheError):
    """An unexpected exception (a bug), reported as one line; the traceback only with --debug."""

    exit_code = EXIT_FAILURE
    code = "internal"


class SandboxError(EcrcacheError):
    """The sandbox could not start (moto missing) or its state file is unreadable."""

    exit_code = EXIT_FAILURE
    code = "sandbox"


class Interrupted(EcrcacheError):
    """Ctrl-C (SIGINT) stopped the run; ``applied`` lists the changes made before it did."""

    exit_code = EXIT_INTERRUPTED
    code = "interrupted"

    def __init__(
        self, message: str, *, hint: str | None = None, applied: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message, hint=hint)
        self.applied = applied
