"""Start-up: a command loads only its own module; `--help` still lists every command with its
summary; `rewrite` with a plainly right config builds no config models and loads neither boto3
nor rich (benchmarks/bench_startup.py measures the time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ecrcache.cli.app import COMMAND_MODULES, run

DATA = Path(__file__).resolve().parents[1] / "data" / "rewrite"
PROBE = """\
import json, sys
from ecrcache.cli.app import run
code = run(sys.argv[1:])
print(json.dumps([code, sorted(m for m in sys.modules if m.startswith(("ecrcache", "boto",
    "rich", "pydantic")))]))
"""


def _modules_after(*argv: str) -> tuple[int, list[str]]:
    env = {k: v for k, v in os.environ.items() if k != "AWS_ACCOUNT_ID"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, env=env, check=True
    )
    code, modules = json.loads(out.stdout.splitlines()[-1])
    return code, modules


def test_rewrite_loads_only_what_it_needs() -> None:
    code, modules = _modules_after(
        "-c", str(DATA / "ecrcache.toml"), "rewrite", "--account-id", "123456789012", "nginx"
    )
    assert code == 0
    commands = {m for m in modules if m.startswith("ecrcache.cli.")} - {
        "ecrcache.cli.app",
        "ecrcache.cli.common",
        "ecrcache.cli.options",
        "ecrcache.cli.plaincoerce",
        "ecrcache.cli.helptext",  # every command's help text: shared, like options
    }
    assert commands == {"ecrcache.cli.rewrite"}
    # pydantic: neither the config's models nor typer's adapters (cli/plaincoerce)
    for absent in (
        "ecrcache.config.schema",
        "ecrcache.config.loading",
        "boto3",
        "rich",
        "pydantic",
        "typer._adapters",
    ):
        assert absent not in modules


def test_a_config_that_is_not_plainly_right_is_validated(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('version = 1\nregion = "af-south-1"\n[rules.quay]\nupstream = "quai"\n')
    code, modules = _modules_after("-c", str(path), "rewrite", "--account-id", "1" * 12, "x")
    assert code == 2
    assert "ecrcache.config.loading" in modules


def test_help_lists_every_command_with_its_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--help"]) == 0
    out = capsys.readouterr().out
    listed = out[out.index("Commands:") :].splitlines()[1:]
    rows = [line.split(None, 1) for line in listed if line.strip()]
    assert [name for name, _ in rows] == list(COMMAND_MODULES)
    assert all(len(summary) > 10 for _, summary in rows)


@pytest.mark.parametrize("name", list(COMMAND_MODULES))
def test_each_module_defines_its_command(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run([name, "--help"]) == 0
    assert f"Usage: ecrcache {name} " in capsys.readouterr().out


def test_a_misspelt_command_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["rewrit", "nginx"]) == 2
    assert "No such command 'rewrit'. Did you mean 'rewrite'?" in capsys.readouterr().err
