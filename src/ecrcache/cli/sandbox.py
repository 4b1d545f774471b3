"""``ecrcache sandbox reset|status``: manage the simulated account that --sandbox runs against."""

from __future__ import annotations

import sys

import typer

from ecrcache.cli.app import app
from ecrcache.cli.options import GlobalOptions

sandbox_app = typer.Typer(
    name="sandbox",
    help="The local simulated AWS account used by --sandbox.",
    no_args_is_help=True,
)
app.add_typer(sandbox_app, name="sandbox")


def _opts(ctx: typer.Context) -> GlobalOptions:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, GlobalOptions) else GlobalOptions()


@sandbox_app.command()
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
    from ecrcache.render import console

    text = (
        f"Deleted the sandbox state {path}."
        if deleted
        else f"No sandbox state at {path}: nothing to delete."
    )
    console(no_color=opts.no_color).print(text, markup=False)


@sandbox_app.command()
def status(ctx: typer.Context) -> None:
    """Where the sandbox state is, and how many rules, templates, repositories and secrets."""
    from ecrcache.sandbox.runtime import sandbox_status

    opts = _opts(ctx)
    st = sandbox_status()
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
        }
        write_json(envelope("sandbox status", data), sys.stdout)
        return
    from ecrcache.render import console

    out = console(no_color=opts.no_color)
    if not st.exists:
        out.print(f"No sandbox state yet ({st.path}): the sandbox is empty.", markup=False)
        return
    out.print(f"Sandbox state: {st.path} ({st.size_bytes} bytes)", markup=False)
    for name, count in counts.items():
        out.print(f"  {name:<13}{count}", markup=False)
