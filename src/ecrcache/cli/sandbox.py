"""``ecrcache sandbox reset|status|serve``: the simulated account that --sandbox runs against."""

from __future__ import annotations

import sys

import typer

from ecrcache.cli.app import app
from ecrcache.cli.helptext import command_help
from ecrcache.cli.options import GlobalOptions
from ecrcache.render.words import counted

sandbox_app = typer.Typer(
    name="sandbox",
    help="The local simulated AWS account used by --sandbox.",
    no_args_is_help=True,
)
app.add_typer(sandbox_app, name="sandbox")


def _opts(ctx: typer.Context) -> GlobalOptions:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, GlobalOptions) else GlobalOptions()


@sandbox_app.command("reset", **command_help("sandbox reset"))
def reset(ctx: typer.Context) -> None:
    """Delete the sandbox state: the next --sandbox run starts from an empty account."""
    from ecrcache.sandbox.runtime import default_state_path, reset_sandbox

    opts = _opts(ctx)
    path = default_state_path()
    deleted = reset_sandbox(path)
    if opts.json:
        from ecrcache.result import envelope, write_json

        write_json(
            envelope("sandbox reset", {"state_path": str(path), "deleted": deleted}), sys.stdout
        )
        return
    from ecrcache.render.console import console

    text = (
        f"Deleted the sandbox state {path}."
        if deleted
        else f"No sandbox state at {path}: nothing to delete."
    )
    console(no_color=opts.no_color).print(text, markup=False)


@sandbox_app.command("status", **command_help("sandbox status"))
def status(ctx: typer.Context) -> None:
    """Where the sandbox state is, how many rules, templates, repositories and secrets, and
    the endpoint of the `sandbox serve` holding it, if one does."""
    from ecrcache.sandbox.runtime import live_server, sandbox_status

    opts = _opts(ctx)
    st = sandbox_status()
    served_at = live_server(st.path)
    counts = {
        "rules": st.rules,
        "templates": st.templates,
        "repositories": st.repositories,
        "images": st.images,
        "secrets": st.secrets,
    }
    if opts.json:
        from ecrcache.result import envelope, write_json

        data = {
            "state_path": str(st.path),
            "exists": st.exists,
            "size_bytes": st.size_bytes,
            **counts,
            "served_at": served_at,
        }
        write_json(envelope("sandbox status", data), sys.stdout)
        return
    from ecrcache.render.console import console

    out = console(no_color=opts.no_color)
    if not st.exists:
        out.print(f"No sandbox state yet ({st.path}): the sandbox is empty.", markup=False)
    else:
        out.print(f"Sandbox state: {st.path} ({counted(st.size_bytes, 'byte')})", markup=False)
        for name, count in counts.items():
            out.print(f"  {name:<13}{count}", markup=False)
    if served_at:
        out.print(f"Served by `ecrcache sandbox serve` at {served_at}", markup=False)


def _serve_banner(url: str, state: str) -> list[str]:
    from ecrcache.sandbox.runtime import SANDBOX_ACCOUNT_ID

    return [
        f"Serving the sandbox (simulated AWS account {SANDBOX_ACCOUNT_ID}) at {url}",
        f"State: {state} (saved after every change)",
        "Point any AWS client at it; any access key is accepted:",
        f"  ecrcache --endpoint-url {url} plan -c ecrcache.toml",
        f"  aws --endpoint-url {url} ecr describe-pull-through-cache-rules",
        f"  export AWS_ENDPOINT_URL={url}   # the AWS SDKs and CLI read it",
        "Press Ctrl-C to stop.",
    ]


@sandbox_app.command("serve", **command_help("sandbox serve"))
def serve(
    ctx: typer.Context,
    port: int = typer.Option(
        5000,  # moto_server's default
        "--port",
        min=0,
        max=65535,
        help="Port on 127.0.0.1; 0 picks a free one.",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No line per request on stderr."),
) -> None:
    """Serve the sandbox as a local AWS endpoint on 127.0.0.1, until Ctrl-C.

    Every service moto has (ECR with ecrcache's extension, Secrets Manager, IAM, STS, KMS, Cost
    Explorer...), the same state as --sandbox, saved after every change. Ctrl-C (or SIGTERM)
    stops it with exit code 0. Meanwhile --sandbox runs are refused: use --endpoint-url.
    """
    import contextlib
    import signal

    from ecrcache.sandbox.runtime import default_state_path
    from ecrcache.sandbox.serve import sandbox_server

    opts = _opts(ctx)
    path = default_state_path()

    def log(line: str) -> None:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()

    # Ctrl-C stops it even when started with SIGINT ignored (a background job of a script), and
    # SIGTERM (docker stop, systemd, kill) the same way: as moto_server does.
    previous = {
        sig: signal.signal(sig, signal.default_int_handler)
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        logger = None if quiet else log
        with sandbox_server(port=port, state_path=path, log=logger, debug=opts.debug) as server:
            if opts.json:
                from ecrcache.result import envelope, write_json

                data = {"endpoint": server.url, "port": server.port, "state_path": str(path)}
                write_json(envelope("sandbox serve", data), sys.stdout)
            else:
                sys.stdout.write("\n".join(_serve_banner(server.url, str(path))) + "\n")
                sys.stdout.flush()
            # werkzeug returns on Ctrl-C; this covers one arriving just outside its loop.
            with contextlib.suppress(KeyboardInterrupt):
                server.serve_forever()
        log(f"Stopped the sandbox server; its state is in {path}.")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
