"""The ``ecrcache`` entry point: global options, command registration, one error boundary.

Command modules are imported here and register themselves on ``app``. They import their core
modules (and boto3) inside the command body, so ``ecrcache rewrite`` stays fast.
"""

from __future__ import annotations

import logging
import sys
from importlib import import_module
from pathlib import Path
from typing import Any

import typer

from ecrcache import __version__, interrupts
from ecrcache.cli.options import GlobalOptions, hoist_global_options, wants_json
from ecrcache.errors import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    EcrcacheError,
    Interrupted,
)

app = typer.Typer(
    name="ecrcache",
    help="Declarative Amazon ECR pull-through cache: plan, apply, rewrite, login, test-pull.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: no "<bool>" column, nothing to wrap oddly
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Each module defines its commands on `app` when imported (one small module per command).
COMMAND_MODULES: tuple[str, ...] = (
    "ecrcache.cli.validate",
    "ecrcache.cli.plan",
    "ecrcache.cli.apply",
    "ecrcache.cli.sandbox",
    "ecrcache.cli.login",
    "ecrcache.cli.rewrite",
    "ecrcache.cli.testpull",
    "ecrcache.cli.importer",
    "ecrcache.cli.outputs",
    "ecrcache.cli.cost",
    "ecrcache.cli.status",
    "ecrcache.cli.prune",
    "ecrcache.cli.doctor",
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"ecrcache {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _global(
    ctx: typer.Context,
    config: Path = typer.Option(
        Path("ecrcache.toml"),
        "--config",
        "-c",
        envvar="ECRCACHE_CONFIG",
        help="Config file (env ECRCACHE_CONFIG).",
        show_default=True,
    ),
    profile: str | None = typer.Option(None, "--profile", help="AWS profile (as the AWS CLI)."),
    region: str | None = typer.Option(None, "--region", help="AWS region (overrides the config)."),
    endpoint_url: str | None = typer.Option(
        None, "--endpoint-url", help="Custom ECR/AWS endpoint (AWS_ENDPOINT_URL also works)."
    ),
    sandbox: bool = typer.Option(
        False, "--sandbox", help="Run against a local simulated AWS account (no credentials)."
    ),
    output: str = typer.Option("text", "--output", "-o", help="Output format: text or json."),
    no_color: bool = typer.Option(False, "--no-color", help="No colours (NO_COLOR also works)."),
    debug: bool = typer.Option(False, "--debug", help="Log AWS calls; show tracebacks."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    if output not in ("text", "json"):
        raise typer.BadParameter("must be 'text' or 'json'", param_hint="--output")
    source = ctx.get_parameter_source("config")
    ctx.obj = GlobalOptions(
        config_path=config,
        config_explicit=source is not None and source.name != "DEFAULT",
        profile=profile,
        region=region,
        endpoint_url=endpoint_url,
        sandbox=sandbox,
        output=output,  # type: ignore[arg-type]
        no_color=no_color,
        debug=debug,
    )
    if debug:
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s", stream=sys.stderr)
        # botocore's loggers stay at WARNING (set in ecrcache.aws): they print request bodies.


def _register_commands() -> None:
    for name in COMMAND_MODULES:
        import_module(name)


def report_error(exc: EcrcacheError, *, as_json: bool, command: str) -> int:
    """Print one line (and a hint) to stderr, or the JSON envelope to stdout; return the code."""
    if as_json:
        from ecrcache.result import envelope, write_json

        error: dict[str, Any] = {
            "code": exc.code,
            "message": exc.message,
            "hint": exc.hint,
            "exit_code": exc.exit_code,
            "details": list(exc.details),
        }
        applied = getattr(exc, "applied", None)
        if applied is not None:
            error["applied"] = list(applied)
        write_json(envelope(command, None, error=error), sys.stdout)
    from ecrcache.render.console import error_line

    error_line(exc.message, exc.hint, details=exc.details)
    return exc.exit_code


def _command_name(argv: list[str]) -> str:
    for arg in argv:
        if not arg.startswith("-") and arg in app_command_names():
            return arg
    return "ecrcache"


def app_command_names() -> set[str]:
    cmd = typer.main.get_command(app)
    return set(getattr(cmd, "commands", {}).keys())


def run(argv: list[str] | None = None) -> int:
    """Run the CLI on ``argv`` and return the exit code (tests call this; main() exits with it).

    Ctrl-C anywhere in the run ends in exit 130, one line and the changes made before it
    (``interrupts``), the JSON envelope too under ``--output json``."""
    restore = interrupts.install()
    try:
        return _run(argv)
    finally:
        restore()


def _run(argv: list[str] | None) -> int:
    args = hoist_global_options(list(sys.argv[1:] if argv is None else argv))
    debug = "--debug" in args[: args.index("--")] if "--" in args else "--debug" in args
    as_json = wants_json(args)
    try:
        _register_commands()
        rv = app(args=args, prog_name="ecrcache", standalone_mode=False)
        code = rv if isinstance(rv, int) else 0
        if code == EXIT_INTERRUPTED and interrupts.received():
            # typer turned KeyboardInterrupt into a bare `Exit(130)`: say so, and what was done
            return report_interrupt(as_json=as_json, command=_command_name(args))
        return code
    except Interrupted as exc:
        return report_error(exc, as_json=as_json, command=_command_name(args))
    except EcrcacheError as exc:
        if debug:
            raise
        return report_error(exc, as_json=as_json, command=_command_name(args))
    except typer.Exit as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except typer.TyperException as exc:  # typer's click: usage errors, bad options
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            sys.stderr.write(f"Error: {exc}\n")
        return int(getattr(exc, "exit_code", EXIT_USAGE) or EXIT_USAGE)
    except (typer.Abort, KeyboardInterrupt):
        return report_interrupt(as_json=as_json, command=_command_name(args))
    except Exception as exc:
        if debug:
            raise
        from ecrcache.render.console import error_line

        error_line(
            f"internal error: {type(exc).__name__}: {exc}",
            "run again with --debug for the traceback, and report it",
        )
        return EXIT_FAILURE


def report_interrupt(*, as_json: bool, command: str) -> int:
    """Report a Ctrl-C that landed outside apply's handlers, with the run's ledger."""
    done = interrupts.applied()
    hint = None
    if done or command == "apply":
        summary = ", ".join(done) if done else "nothing"
        hint = (
            f"applied before it stopped: {summary}. Run apply again: it picks up where this stopped"
        )
    return report_error(
        Interrupted(f"{command} interrupted", hint=hint, applied=done),
        as_json=as_json,
        command=command,
    )


def main() -> None:
    from ecrcache.cli.entry import main as entry_main  # the entry point, light to import

    entry_main()
