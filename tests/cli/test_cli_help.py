"""Every command's --help: values named by what they are (never ``<str>``, ``<int range>``,
``<list[str]>`` or ``{REF}``), one or two examples at the end, and one-sentence summaries in
``ecrcache --help`` that click does not cut with "..."."""

from __future__ import annotations

import re

import pytest
import typer
from cli_support import cli

from ecrcache.cli.app import COMMAND_MODULES, app
from ecrcache.cli.helptext import SUMMARIES


def _commands() -> list[list[str]]:
    """Every command, and every subcommand of a group (sandbox ...), as its argv."""
    group = typer.main.get_group(app)
    out = []
    for name in COMMAND_MODULES:
        command = group.get_command(None, name)  # type: ignore[arg-type]
        subcommands = getattr(command, "commands", None)
        out += [[name, sub] for sub in sorted(subcommands)] if subcommands else [[name]]
    return out


COMMANDS = _commands()
TYPE_METAVAR = re.compile(r"<(str|int|float|path|bool|list\[|int range|float range)[^>]*>")


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_command_help(
    command: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = cli(capsys, *command, "--help")
    assert code == 0, err
    assert not TYPE_METAVAR.search(out), out
    usage = out.splitlines()[0]
    assert usage.startswith(f"Usage: ecrcache {' '.join(command)}") and "{" not in usage, usage
    tail = out.rstrip().split("\n\n")[-1].splitlines()
    assert tail[0].strip() == "Examples:", out
    examples = [ln.strip() for ln in tail[1:]]
    assert 1 <= len(examples) <= 2 and all(e.startswith(("ecrcache ", "echo ")) for e in examples)
    assert all("ecrcache " in e for e in examples)


def test_groups_are_walked() -> None:
    assert ["sandbox", "serve"] in COMMANDS and ["init"] in COMMANDS


def test_command_list_has_whole_sentences(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = cli(capsys, "--help")
    assert code == 0
    assert not TYPE_METAVAR.search(out), out  # the global options name values, not types
    listing = out.split("Commands:\n", 1)[1].splitlines()
    summaries = dict(ln.strip().split(None, 1) for ln in listing if ln.strip())
    assert set(summaries) == set(COMMAND_MODULES)
    for name, text in summaries.items():
        assert not text.endswith("..."), f"{name}: {text!r} is cut"
        assert text[0].isupper() and text.endswith("."), f"{name}: {text!r} is not a sentence"
        if name in SUMMARIES:  # a group (sandbox) has its own help line
            assert text == SUMMARIES[name]


def test_apply_prune_says_what_it_deletes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "apply", "--help")
    assert code == 0
    text = " ".join(out.split())
    for kind in (
        "pull-through cache rules",
        "repository creation templates",
        "secrets",
        "application repositories",
        "IAM policies",
        "managed-by=ecrcache",
        "--force",
        "--delete-images",
    ):
        assert kind in text.replace("pull- through", "pull-through"), kind
