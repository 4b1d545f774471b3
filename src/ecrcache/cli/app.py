"""The ``ecrcache`` entry point: global options, command registration, one error boundary.

Command modules register themselves on ``app`` when imported, and are imported only when their
command runs (or for ``--help``), so ``ecrcache rewrite`` loads no other command's module. They
import their core modules (and boto3) inside the command body.
"""

from __future__ import annotations

import logging
import sys
from difflib import get_close_matches
from importlib import import_module
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from ecrcache import __version__, endpointwait, interrupts, nextcommand
from ecrcache.cli import plaincoerce
from ecrcache.cli.options import GlobalOptions, hoist_global_options, wants_json
from ecrcache.errors import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    EcrcacheError,
    Interrupted,
)
from ecrcache.render import colour


class LazyCommandGroup(TyperGroup):
    """The click group of ``app``: lists every command of COMMAND_MODULES, and imports a
    command's module (which registers it on ``app``) only when the command is looked up."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(dict.fromkeys([*COMMAND_MODULES, *self.commands]))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            import_module(COMMAND_MODULES[cmd_name])
            # The click form of what is registered now; earlier commands keep their objects.
            loaded = typer.main.get_group(app).commands
            self.commands.update({k: v for k, v in loaded.items() if k not in self.commands})
        return self.commands.get(cmd_name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except typer.TyperException as exc:  # typer suggests among loaded commands only
            close = get_close_matches(args[0], list(COMMAND_MODULES)) if args else []
            if close and "No such command" in exc.message and "Did you mean" not in exc.message:
                exc.message = (
                    f"{exc.message.rstrip('.')}. Did you mean {', '.join(map(repr, close))}?"
                )
            raise


app = typer.Typer(
    name="ecrcache",
    help="Declarative Amazon ECR pull-through cache: plan, apply, rewrite, login, test-pull.",
    cls=LazyCommandGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: no "<bool>" column, nothing to wrap oddly
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Each command's name and the module that defines it on `app` (one small module per command):
# the module is imported only when its command is looked up, so adding a command is one line.
COMMAND_MODULES: dict[str, str] = {
    "init": "ecrcache.cli.init",
    "validate": "ecrcache.cli.validate",
    "plan": "ecrcache.cli.plan",
    "apply": "ecrcache.cli.apply",
    "sandbox": "ecrcache.cli.sandbox",
    "login": "ecrcache.cli.login",
    "rewrite": "ecrcache.cli.rewrite",
    "test-pull": "ecrcache.cli.testpull",
    "import": "ecrcache.cli.importer",
    "outputs": "ecrcache.cli.outputs",
    "cost-report": "ecrcache.cli.cost",
    "status": "ecrcache.cli.status",
    "prune": "ecrcache.cli.prune",
    "doctor": "ecrcache.cli.doctor",
    "warm": "ecrcache.cli.warm",
    "node-config": "ecrcache.cli.nodeconfig",
    "export": "ecrcache.cli.export",
}


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
        metavar="PATH",
        help="Config file (env ECRCACHE_CONFIG).",
        show_default=True,
    ),
    profile: str | None = typer.Option(
        None, "--profile", metavar="NAME", help="AWS profile (as the AWS CLI)."
    ),
    region: str | None = typer.Option(
        None, "--region", metavar="REGION", help="AWS region (overrides the config)."
    ),
    endpoint_url: str | None = typer.Option(
        None,
        "--endpoint-url",
        metavar="URL",
        help="Custom ECR/AWS endpoint (AWS_ENDPOINT_URL also works).",
    ),
    sandbox: bool = typer.Option(
        False, "--sandbox", help="Run against a local simulated AWS account (no credentials)."
    ),
    output: str = typer.Option(
        "text", "--output", "-o", metavar="text|json", help="Output format: text or json."
    ),
    no_color: bool = typer.Option(False, "--no-color", help="No colours (NO_COLOR also works)."),
    debug: bool = typer.Option(False, "--debug", help="Log AWS calls; show tracebacks."),
    target: list[str] = typer.Option(
        [], "--target", metavar="NAME", help="Only this one of the config's [targets] (repeatable)."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    if output not in ("text", "json"):
        raise typer.BadParameter("must be 'text' or 'json'", param_hint="--output")
    if endpoint_url is not None:
        from ecrcache.endpointurl import check_endpoint_url

        check_endpoint_url(endpoint_url)
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
        targets=tuple(target),
    )
    if debug:
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s", stream=sys.stderr)
        from ecrcache.secrecy import RedactingFilter

        for handler in logging.getLogger().handlers:
            handler.addFilter(RedactingFilter())
        # botocore's loggers stay at WARNING (set in ecrcache.aws): they print request bodies.


def report_error(exc: EcrcacheError, *, as_json: bool, command: str) -> int:
    """Print one line (and a hint) to stderr, and under --output json the envelope to stdout
    (nothing else goes there); return the code.

    Every text passes through ``secrecy.redact``: no secret value read in this run, and no
    password in a URL, is printed, whatever message carried it."""
    from ecrcache.cli.failures import error_object

    error = error_object(exc)
    if error["hint"]:  # a next command carries --sandbox
        error["hint"] = nextcommand.for_run(error["hint"])
    if as_json:
        from ecrcache.result import envelope, write_json

        doc = envelope(command, exc.data, warnings=exc.warnings, error=error)
        write_json(doc, sys.stdout)
    from ecrcache.render.console import error_line

    error_line(error["message"], error["hint"], details=tuple(error["details"]))
    return exc.exit_code


def _command_name(argv: list[str]) -> str:
    for arg in argv:
        if not arg.startswith("-") and arg in app_command_names():
            return arg
    return "ecrcache"


def app_command_names() -> set[str]:
    return set(COMMAND_MODULES)


def _print_traceback(exc: BaseException) -> None:
    """--debug's traceback, redacted: a chained botocore error may quote a secret value."""
    import traceback

    from ecrcache.secrecy import redact

    sys.stderr.write(redact("".join(traceback.format_exception(exc))))


def run(argv: list[str] | None = None) -> int:
    """Run the CLI on ``argv`` and return the exit code (tests call this; main() exits with it).

    Ctrl-C anywhere in the run ends in exit 130, one line and the changes made before it
    (``interrupts``), the JSON envelope too under ``--output json``."""
    restore = interrupts.install()
    plaincoerce.install()  # plain options skip typer's pydantic adapters: start-up time
    endpointwait.set_notifier(_wait_notice, prepare=_prepare_wait_notice)
    try:
        return _run(argv)
    finally:
        endpointwait.set_notifier(None)
        restore()
        colour.set_off_for_run(False)
        nextcommand.set_sandbox_for_run(False)


def _prepare_wait_notice() -> None:
    """Imported at the first AWS call, in its thread (rich is heavy: not at start-up)."""
    import_module("ecrcache.render.waiting")


def _wait_notice(wait: endpointwait.Wait | None) -> None:
    """A slow AWS call, shown on stderr (from the watcher thread: imported already)."""
    from ecrcache.render.waiting import notice

    notice(wait)


def _run(argv: list[str] | None) -> int:
    args = hoist_global_options(list(sys.argv[1:] if argv is None else argv))
    head = args[: args.index("--")] if "--" in args else args
    debug = "--debug" in head
    colour.set_off_for_run("--no-color" in head)  # before click: its errors are plain too
    nextcommand.set_sandbox_for_run("--sandbox" in head)
    as_json = wants_json(args)
    command = _command_name(args)
    try:
        rv = app(args=args, prog_name="ecrcache", standalone_mode=False)
        code = rv if isinstance(rv, int) else 0
        if code == EXIT_INTERRUPTED and interrupts.received():
            # typer turned KeyboardInterrupt into a bare `Exit(130)`: say so, and what was done
            return report_interrupt(as_json=as_json, command=command)
        return code
    except Interrupted as exc:
        return report_error(exc, as_json=as_json, command=command)
    except EcrcacheError as exc:
        if debug:
            _print_traceback(exc)
        return report_error(_for_plan(exc, args, command), as_json=as_json, command=command)
    except typer.Exit as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except typer.TyperException as exc:  # typer's click: usage errors, bad options
        if as_json:  # the envelope, as for any other failure
            from ecrcache.cli.failures import from_usage

            usage = _for_plan(from_usage(exc), args, command)
            return report_error(usage, as_json=True, command=command)
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            sys.stderr.write(f"Error: {exc}\n")
        from ecrcache.cli.failures import detailed_exitcode

        code = int(getattr(exc, "exit_code", EXIT_USAGE) or EXIT_USAGE)
        return EXIT_FAILURE if code and detailed_exitcode(args, command) else code
    except (typer.Abort, KeyboardInterrupt):
        return report_interrupt(as_json=as_json, command=command)
    except Exception as exc:
        if _from_interrupt(exc) or interrupts.received():
            # Python wraps a Ctrl-C that lands in some hooks (a class's __set_name__ while
            # pydantic builds a model at import) in a RuntimeError, and pydantic-core turns one
            # inside schema building into a SchemaError with no chain: still an interrupt
            return report_interrupt(as_json=as_json, command=command)
        if debug:
            _print_traceback(exc)
        return report_error(_internal(exc), as_json=as_json, command=command)


def _for_plan(exc: EcrcacheError, args: list[str], command: str) -> EcrcacheError:
    """``exc``, exiting 1 under ``plan --detailed-exitcode`` (where 2 means changes).
    ``cli.failures`` is imported on a failure only: rewrite's start-up never loads it."""
    from ecrcache.cli.failures import detailed_exitcode, under_detailed_exitcode

    return under_detailed_exitcode(exc, detailed_exitcode(args, command))


def _internal(exc: BaseException) -> EcrcacheError:
    from ecrcache.cli.failures import internal

    return internal(exc)


def _from_interrupt(exc: BaseException) -> bool:
    """Whether ``exc`` was caused, at any depth of its chain, by a KeyboardInterrupt."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def report_interrupt(*, as_json: bool, command: str) -> int:
    """Report a Ctrl-C that landed outside apply's handlers, with the run's ledger."""
    from ecrcache.cli.interrupted import interrupt_hint

    done = interrupts.applied()
    hint = interrupt_hint(command, done)
    return report_error(
        Interrupted(f"{command} interrupted", hint=hint, applied=done),
        as_json=as_json,
        command=command,
    )


def main() -> None:
    from ecrcache.cli.entry import main as entry_main  # the entry point, light to import

    entry_main()
