"""Helpers for doctor's tests on the sandbox: run doctor, read one check's result, and apply
the fix it printed *exactly as printed* (ecrcache commands through the CLI, aws commands
through the AWS CLI's own driver inside the sandbox, config snippets merged into the file)."""

from __future__ import annotations

import contextlib
import json
import shlex
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import pytest

from ecrcache.cli.app import run
from ecrcache.sandbox.runtime import default_state_path, open_sandbox

REGION = "af-south-1"
ACCOUNT = "123456789012"
EXAMPLE = Path(__file__).parents[2] / "config.example.toml"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"


class Doctor:
    """One test's doctor: a config file, an empty machine root and Docker config dir."""

    def __init__(self, tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str) -> None:
        self.tmp = tmp_path
        self.capsys = capsys
        self.config = tmp_path / "ecrcache.toml"
        self.config.write_text(config)
        self.root = tmp_path / "root"
        self.root.mkdir()

    def cli(self, *args: str) -> int:
        return run(["--sandbox", "-c", str(self.config), *args])

    def apply(self, *extra: str) -> None:
        assert self.cli("apply", "--yes", *extra) == 0
        self.capsys.readouterr()

    def run(self, *args: str) -> tuple[int, dict[str, Any]]:
        self.capsys.readouterr()
        code = self.cli("doctor", "--root", str(self.root), "-o", "json", *args)
        doc = json.loads(self.capsys.readouterr().out)
        return code, doc["data"]

    def check(self, check_id: str, *args: str) -> dict[str, Any]:
        """The result of one check (run alone with --check)."""
        _, data = self.run("--check", check_id, *args)
        (result,) = [r for r in data["checks"] if r["id"] == check_id]
        return result

    def fix(self, result: dict[str, Any], fill: Mapping[str, str] | None = None) -> None:
        """Apply a result's fix as printed; ``fill`` replaces <placeholders> a human would."""
        fix = result["fix"]
        assert fix is not None, result
        if fix["config"]:
            merge_toml(self.config, _fill(fix["config"], fill))
        pending: list[list[str]] = []  # aws commands, run together in one sandbox session
        for command in [*fix["commands"], None]:
            argv = shlex.split(_fill(command, fill)) if command else []
            if argv[:1] == ["aws"]:
                pending.append(argv[1:])
                continue
            if pending:
                assert aws_cli(*pending) == 0, pending
                pending = []
            if not argv:
                continue
            if argv[0] == "ecrcache":
                assert run(argv[1:]) == 0, command
            elif argv[:2] != ["sudo", "systemctl"]:  # restarting a daemon: nothing runs here
                raise AssertionError(f"no way to apply {command!r}")
        self.capsys.readouterr()


def _fill(text: str, fill: Mapping[str, str] | None) -> str:
    for k, v in (fill or {}).items():
        text = text.replace(k, v)
    return text


@contextlib.contextmanager
def account() -> Iterator[boto3.session.Session]:
    """The sandbox account, for setting a scene (saved when the block ends)."""
    with open_sandbox(region=REGION, state_path=default_state_path()) as session:
        yield session


def aws_cli(*commands: list[str]) -> int:
    """Run ``aws`` command lines in-process against the sandbox (awscli v1 is Python); the
    first non-zero exit code, else 0."""
    from awscli.clidriver import create_clidriver

    with account():
        driver = create_clidriver()  # one driver: it loads the service models once
        for argv in commands:
            code = int(driver.main(argv))
            if code:
                return code
    return 0


def merge_toml(path: Path, snippet: str) -> None:
    """Merge a TOML fragment as a person would: keys before any table go at the top, keys of a
    table that exists are set inside it (replacing the same key), new tables are appended."""
    lines = path.read_text().splitlines()
    for header, keys in _blocks(snippet):
        if header is None:
            start, end = 0, next((i for i, x in enumerate(lines) if x.startswith("[")), len(lines))
        elif header in lines:
            start = lines.index(header) + 1
            end = next(
                (i for i in range(start, len(lines)) if lines[i].startswith("[")), len(lines)
            )
        else:
            lines += ["", header, *keys]
            continue
        for key_line in keys:
            name = key_line.split("=", 1)[0].strip()
            at = next(
                (i for i in range(start, end) if lines[i].split("=", 1)[0].strip() == name), None
            )
            if at is None:
                lines.insert(start, key_line)
                end += 1
            else:
                lines[at] = key_line
    path.write_text("\n".join(lines) + "\n")


def _blocks(snippet: str) -> list[tuple[str | None, list[str]]]:
    out: list[tuple[str | None, list[str]]] = [(None, [])]
    for line in snippet.splitlines():
        if not line.strip():
            continue
        if line.startswith("["):
            out.append((line, []))
        else:
            out[-1][1].append(line)
    return [b for b in out if b[0] is not None or b[1]]


def example_without(*tables: str) -> str:
    """config.example.toml without the named top-level sections (e.g. "templates")."""
    out, skip = [], False
    for line in EXAMPLE.read_text().splitlines():
        if line.startswith("["):
            name = line.strip("[]").split(".", 1)[0]
            skip = name in tables
        if not skip:
            out.append(line)
    return "\n".join(out) + "\n"


def stub_program(directory: Path, name: str, script: str) -> Path:
    """An executable shell script ``name`` in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(0o755)
    return path


def has_shell() -> bool:
    return shutil.which("sh") is not None


def status(result: dict[str, Any]) -> str:
    return str(result["status"])


def dumps(doc: Any) -> str:
    return json.dumps(doc, indent=1)
