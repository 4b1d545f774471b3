"""cli/plaincoerce: plain options skip typer's pydantic adapters, with the values typer gives."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
import typer.core
from typer.testing import CliRunner

from ecrcache.cli import plaincoerce


def _probe_app() -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def probe(
        names: list[str] = typer.Argument(None),
        text: str = typer.Option("d", "--text"),
        where: Path = typer.Option(Path("x"), "--where"),
        maybe: str | None = typer.Option(None, "--maybe"),
        flag: bool = typer.Option(False, "--flag"),
        count: int = typer.Option(1, "--count", min=1, max=3),
        must: Path | None = typer.Option(None, "--must", exists=True),
    ) -> None:
        for value in (names, text, where, maybe, flag, count, must):
            typer.echo(f"{type(value).__name__}:{value!r}")

    @app.command()
    def other() -> None:
        pass

    return app


ARGS = ["probe", "a", "b", "--text", "t", "--where", "w/x", "--flag", "--count", "2"]


def _run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(_probe_app(), args)
    return result.exit_code, result.output


@pytest.fixture
def typers_own() -> Iterator[None]:
    """typer's own coercion for the test (run() installs plaincoerce for the process)."""
    installed = getattr(typer.core._TyperParameter, "_ecrcache_plain", False)
    plaincoerce.uninstall()
    yield
    if installed:
        plaincoerce.install()


def test_values_are_those_typer_gives_itself(typers_own: None) -> None:
    before = _run(ARGS)  # typer's own coercion (pydantic adapters)
    plaincoerce.install()
    after = _run(ARGS)
    assert before == after
    assert (
        after[0] == 0 and "list:['a', 'b']" in after[1] and "PosixPath:PosixPath('w/x')" in after[1]
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["probe", "--count", "9"], "--count"),  # a range: typer's check stays
        (["probe", "--must", "/nonexistent/ecrcache"], "does not exist"),  # exists=True stays
    ],
)
def test_constrained_options_keep_typers_checks(args: list[str], message: str) -> None:
    plaincoerce.install()
    code, out = _run(args)
    assert code == 2 and message in out
