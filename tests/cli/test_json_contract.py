"""The --output json envelope is a contract: these keys, this schema tag, for every command.

Changing it on purpose means bumping ecrcache.result.SCHEMA and this test together.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecrcache.cli.app import run
from ecrcache.result import SCHEMA

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"
ENVELOPE_KEYS = {"schema", "command", "ok", "data", "warnings", "error"}
ERROR_KEYS = {"code", "message", "hint", "exit_code", "details"}
PLAN_KEYS = {
    "account_id",
    "region",
    "changes",
    "unmanaged",
    "summary",
    "problems",
    "checksum",
    "needs_force",
}
CHANGE_KEYS = {"address", "kind", "key", "action", "fields", "reason", "needs_force"}
# after_unknown: Terraform's JSON plan flag for a value known only after apply ("after" null)
FIELD_KEYS = {"name", "before", "after", "sensitive", "after_unknown"}


def doc(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = run([*args, "--output", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_schema_tag() -> None:
    assert SCHEMA == "ecrcache/v1"


def test_validate_envelope(capsys: pytest.CaptureFixture[str]) -> None:
    code, d = doc(capsys, "validate", "-c", str(EXAMPLE))
    assert code == 0
    assert set(d) == ENVELOPE_KEYS and d["schema"] == SCHEMA and d["ok"] is True
    assert set(d["data"]) == {"file", "valid", "region", "rules"}


def test_plan_envelope(capsys: pytest.CaptureFixture[str]) -> None:
    code, d = doc(capsys, "--sandbox", "plan", "-c", str(EXAMPLE))
    assert code == 0
    assert set(d) == ENVELOPE_KEYS
    assert set(d["data"]) == PLAN_KEYS
    assert set(d["data"]["summary"]) == {"add", "change", "replace", "destroy"}
    change = d["data"]["changes"][0]
    assert set(change) == CHANGE_KEYS
    assert set(change["fields"][0]) == FIELD_KEYS


def test_apply_envelope(capsys: pytest.CaptureFixture[str]) -> None:
    code, d = doc(capsys, "--sandbox", "apply", "--yes", "-c", str(EXAMPLE))
    assert code == 0
    assert set(d["data"]) == PLAN_KEYS - {"needs_force"} | {"applied"}
    assert set(d["data"]["applied"][0]) == {"address", "action"}


def test_error_envelope(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("region = 1\n")
    code, d = doc(capsys, "validate", "-c", str(bad))
    assert code == 2
    assert set(d) == ENVELOPE_KEYS and d["ok"] is False and d["data"] is None
    assert set(d["error"]) == ERROR_KEYS
    assert d["error"]["exit_code"] == 2 and d["error"]["code"] == "config"
    assert d["command"] == "validate"


@pytest.mark.parametrize(
    "args",
    [
        ["outputs"],
        ["import"],
        ["status"],
        ["cost-report"],
        ["prune"],
        ["sandbox", "status"],
        ["test-pull", "nginx:1.27"],
        ["warm", "nginx:1.27"],
        ["rewrite", "--account-id", "123456789012", "nginx:1.27"],
        ["export", "cloudformation"],
    ],
    ids=lambda a: a[0] if a[0] != "sandbox" else "sandbox-status",
)
def test_every_command_uses_the_envelope(
    capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    assert run(["--sandbox", "apply", "--yes", "-c", str(EXAMPLE), "-o", "json"]) == 0
    capsys.readouterr()
    code, d = doc(capsys, "--sandbox", *args, "-c", str(EXAMPLE))
    assert code == 0, d
    assert set(d) == ENVELOPE_KEYS
    assert d["schema"] == SCHEMA and d["ok"] is True and d["error"] is None
    assert isinstance(d["data"], dict) and d["data"]
