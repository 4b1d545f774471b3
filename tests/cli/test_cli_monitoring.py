"""[monitoring] through the CLI: validate refuses bad ARNs, thresholds, e-mail addresses and
retention periods before any AWS call (one line each, exit 2); plan and apply in the sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import cli

HEAD = 'version = 1\nregion = "af-south-1"\n[rules.quay]\nupstream = "quay"\n'
FULL = HEAD + (
    "[monitoring]\n"
    'name = "ptc-watch"\n'
    "log_retention_days = 30\n"
    "[monitoring.budget]\n"
    "limit_usd = 20\n"
    "actual_percent = [50, 100]\n"
    "forecast_percent = [120]\n"
    'emails = ["ops@example.com"]\n'
)

BAD = [
    ("topic-arn", '[monitoring]\ntopic = "arn:aws:sqs:af-south-1:123456789012:q"\n',
     "monitoring.topic: 'arn:aws:sqs:af-south-1:123456789012:q' is not an SNS topic ARN"),
    ("retention", "[monitoring]\nlog_retention_days = 10\n",
     "CloudWatch Logs does not keep events for 10 days"),
    ("no-target", "[monitoring]\ntopic = false\n", "the event rule has no target"),
    ("events", '[monitoring]\nevents = "failures"\n', "monitoring.events"),
    ("rule-name", '[monitoring]\nname = "a b"\n', "cannot name an EventBridge rule"),
    ("email", '[monitoring.budget]\nlimit_usd = 5\nemails = ["ops-at-example.com"]\n',
     "'ops-at-example.com' is not an e-mail address"),
    ("threshold", "[monitoring.budget]\nlimit_usd = 5\nactual_percent = [0]\n",
     "threshold 0% is out of range"),
    ("limit", "[monitoring.budget]\nlimit_usd = 0\n", "monitoring.budget.limit_usd"),
    ("too-many", "[monitoring.budget]\nlimit_usd = 5\nactual_percent = [1, 2, 3, 4]\n"
     "forecast_percent = [5, 6]\n", "6 thresholds; Budgets allows 5 notifications"),
    ("nobody", "[monitoring]\ntopic = false\nlog_retention_days = 7\n"
     "[monitoring.budget]\nlimit_usd = 5\n", "the budget notifies nobody"),
    ("unknown-key", "[monitoring]\nretention_days = 7\n", "unknown key 'retention_days'"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "fragment"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_validate_refuses_before_any_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, fragment: str
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(HEAD + body)
    code, _out, err = cli(capsys, "validate", "-c", str(path))
    assert code == 2
    assert fragment in err
    assert "Traceback" not in err


def test_the_full_section_validates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.toml"
    path.write_text(FULL)
    code, out, err = cli(capsys, "validate", "-c", str(path))
    assert code == 0, err
    assert "is valid" in out


def test_sandbox_apply_then_plan_is_empty(
    aws_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(FULL)
    code, out, err = cli(capsys, "--sandbox", "plan", "-c", str(path))
    assert code == 0, err
    for address in (
        "event-rule.ptc-watch",
        "sns-topic.ptc-watch",
        "log-group./aws/events/ptc-watch",
        "logs-policy.ptc-watch-events",
        "budget.ecrcache-ecr-monthly",
    ):
        assert address in out
    code, _out, err = cli(capsys, "--sandbox", "apply", "-c", str(path), "--yes")
    assert code == 0, err
    code, out, err = cli(
        capsys, "--sandbox", "plan", "-c", str(path), "--detailed-exitcode", "--output", "json"
    )
    assert code == 0, err
    assert json.loads(out)["data"]["changes"] == []
