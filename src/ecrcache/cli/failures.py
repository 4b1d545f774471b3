"""Every failure as ecrcache's own error, and the envelope's ``error`` object for it.

The boundary in ``cli/app.py`` meets three kinds of failure: ecrcache's errors, typer's (click's)
usage errors, raised while parsing before any command runs, and unexpected exceptions. Turned
into ``EcrcacheError`` here, all three print the same way: one line and a hint on stderr, and
under ``--output json`` one envelope on stdout, nothing else. Light to import (no typer, no
rich): ``cli/entry.py`` uses it while the heavy imports may still be under way.
"""

from __future__ import annotations

from typing import Any

from ecrcache.errors import EXIT_FAILURE, EXIT_USAGE, EcrcacheError, InternalError, UsageError


def error_object(exc: EcrcacheError) -> dict[str, Any]:
    """The envelope's ``error``: kind (``code``), message, hint, exit code, details; the
    changes made (``applied``) when the error carries them. Every text is redacted."""
    from ecrcache.secrecy import redact

    error: dict[str, Any] = {
        "code": exc.code,
        "message": redact(exc.message),
        "hint": redact(exc.hint) if exc.hint else exc.hint,
        "exit_code": exc.exit_code,
        "details": [redact(d) for d in exc.details],
    }
    applied = getattr(exc, "applied", None)
    if applied is not None:
        error["applied"] = list(applied)
    return error


def from_usage(exc: Any) -> UsageError:
    """click's usage error (a typer ``TyperException``: unknown option or command, bad value,
    missing argument) as ecrcache's, with the help command as its hint."""
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None) or "ecrcache"
    if type(exc).__name__ == "NoArgsIsHelpError":  # its message is the whole help text
        message = "missing command"
    else:
        message = str(exc.format_message()).strip() or "invalid usage"
    error = UsageError(message, hint=f"see `{path} --help`")
    error.exit_code = int(getattr(exc, "exit_code", EXIT_USAGE) or EXIT_USAGE)
    return error


def internal(exc: BaseException) -> InternalError:
    """An unexpected exception: a bug, said so, with where to look."""
    return InternalError(
        f"internal error: {type(exc).__name__}: {exc}",
        hint="run again with --debug for the traceback, and report it",
    )


def detailed_exitcode(args: list[str], command: str) -> bool:
    """Whether this is ``plan --detailed-exitcode``: there 2 means "changes", so every failure,
    usage errors too, exits 1 (Terraform's -detailed-exitcode)."""
    words = args[: args.index("--")] if "--" in args else args
    return command == "plan" and "--detailed-exitcode" in words


def under_detailed_exitcode(exc: EcrcacheError, detailed: bool) -> EcrcacheError:
    """``exc`` with exit code 1 under ``plan --detailed-exitcode`` (an interrupt keeps 130)."""
    if detailed and exc.exit_code not in (0, EXIT_FAILURE) and exc.code != "interrupted":
        exc.exit_code = EXIT_FAILURE
    return exc
