"""What ``--help`` says about each command: a one-sentence summary that fits the command list,
examples at the end, and metavars that name what a value is, never its Python type.

typer prints a value's type (``--top <int range>``, ``REF... <list[str]>``) and a required
argument in braces (``{REF}``); click cuts a long summary with "...". Each command passes
``**command_help(name)`` to its ``@app.command`` so all of them read the same way.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperCommand

# One sentence each, short enough for `ecrcache --help` at 80 columns (click cuts at ~60).
SUMMARIES: dict[str, str] = {
    "init": "Write a commented starting config, asking or from flags.",
    "validate": "Check the config offline, without calling AWS.",
    "plan": "Show what apply would change in the account.",
    "apply": "Make the account match the config.",
    "login": "Log Docker, Helm or a pull secret in to the registry.",
    "rewrite": "Point image references at the cache, in text or files.",
    "test-pull": "Pull an image through the cache twice and time it.",
    "import": "Write a config from what the account already has.",
    "outputs": "Print the registry, login command and pull prefixes.",
    "cost-report": "Estimate storage cost per upstream and repository.",
    "status": "Show cached repositories and drift per cache prefix.",
    "prune": "Delete cached images nobody pulled for a while.",
    "doctor": "Find what stops pulls through the cache, and how to fix it.",
    "warm": "Pull images through the cache now, so nodes find them.",
    "node-config": "Write containerd mirror and credential files for nodes.",
    "sandbox reset": "Delete the sandbox state and start from an empty account.",
    "sandbox status": "Show what the sandbox account holds.",
    "sandbox serve": "Serve the sandbox as a local AWS endpoint.",
    "export cloudformation": "Write the config as a CloudFormation template.",
}

EXAMPLES: dict[str, tuple[str, ...]] = {
    "init": (
        "ecrcache init",
        "ecrcache init --non-interactive --region eu-west-1 --upstream docker-hub --upstream quay",
    ),
    "validate": ("ecrcache validate", "ecrcache validate -c cache/ecrcache.toml"),
    "plan": ("ecrcache plan", "ecrcache plan --detailed-exitcode -o json > plan.json"),
    "apply": (
        "ecrcache apply",
        'ecrcache apply --yes --checksum "$(jq -r .data.checksum plan.json)"',
    ),
    "login": ("ecrcache login", "ecrcache login --helm --regions eu-west-1,us-east-1"),
    "rewrite": (
        "echo nginx:1.27 | ecrcache rewrite",
        "ecrcache rewrite --check --file charts/app/values.yaml Dockerfile",
    ),
    "test-pull": (
        "ecrcache test-pull nginx:1.27",
        "ecrcache --sandbox test-pull quay.io/prometheus/node-exporter:v1.8.0",
    ),
    "import": ("ecrcache import --region eu-west-1 --out ecrcache.toml",),
    "outputs": ("ecrcache outputs", "ecrcache outputs -o json"),
    "cost-report": (
        "ecrcache cost-report",
        "ecrcache cost-report --top 20 --format csv > cost.csv",
    ),
    "status": ("ecrcache status", "ecrcache status -o json"),
    "prune": ("ecrcache prune --older-than 90", "ecrcache prune --older-than 90 --yes"),
    "doctor": ("ecrcache doctor", "ecrcache doctor --image nginx:1.27"),
    "warm": (
        "ecrcache warm nginx:1.27 quay.io/prometheus/node-exporter:v1.8.0",
        "ecrcache warm --file charts/app/values.yaml",
    ),
    "node-config": ("ecrcache node-config", "ecrcache node-config --node-type al2023 --out nodes/"),
    "sandbox reset": ("ecrcache sandbox reset",),
    "sandbox status": ("ecrcache sandbox status",),
    "sandbox serve": ("ecrcache sandbox serve --port 4566",),
    "export cloudformation": ("ecrcache export cloudformation --out ecrcache.cfn.yaml",),
}


def metavar(param: Any, ctx: Any) -> str:
    """What the value is: the declared metavar, else N for a number, PATH for a path, the
    choices, else the parameter's own name in capitals. (typer vendors its own click and
    describes a type as ``<int range>``; that description is what is translated here.)"""
    if param.metavar:
        return str(param.metavar)
    typed = str(param.display_type(ctx) or "").strip("<>").removeprefix("list[").rstrip("]")
    if typed.startswith(("int", "float")):
        return "N"
    if typed == "path":
        return "PATH"
    if "|" in typed:
        return typed
    return str(param.name or "value").upper()


def _shown(param: Any, ctx: Any) -> str:
    name = metavar(param, ctx)
    return name + ("..." if param.nargs != 1 and not name.endswith("...") else "")


class HelpfulCommand(TyperCommand):
    """A typer command whose help names values (``--top N``, ``REF``) instead of their types."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                pieces.append(_shown(param, ctx) if param.required else f"[{_shown(param, ctx)}]")
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        args: list[tuple[str, str]] = []
        opts: list[tuple[str, str]] = []
        for param in self.get_params(ctx):
            is_option = param.param_type_name == "option"
            if (
                is_option
                and not getattr(param, "is_flag", False)
                and not getattr(param, "count", 0)
            ):
                param.metavar = metavar(param, ctx)  # typer prints a metavar instead of the type
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if is_option:
                opts.append(record)
            else:
                args.append((_shown(param, ctx), record[1]))
        if args:
            with formatter.section("Arguments"):
                formatter.write_dl(args)
        if opts:
            with formatter.section("Options"):
                formatter.write_dl(opts)


def examples_epilog(name: str) -> str:
    """The examples block, kept as written (click's ``\\b`` stops it being rewrapped)."""
    lines = "\n".join(f"  {e}" for e in EXAMPLES[name])
    return f"\b\nExamples:\n{lines}"


def command_help(name: str) -> dict[str, Any]:
    """The ``@app.command`` keywords that give ``name`` its summary, examples and metavars."""
    return {"cls": HelpfulCommand, "short_help": SUMMARIES[name], "epilog": examples_epilog(name)}
