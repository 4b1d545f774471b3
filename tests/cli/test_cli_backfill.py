"""What plan says it leaves alone on purpose (backfill with a ROOT rule, a rule left in place),
through the CLI on a moto account."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from cli_support import cli

from ecrcache.sandbox.pulls import simulate_pull

CONFIG = """version = 1
region = "af-south-1"
[rules.ROOT]
upstream = "ecr-public"
[templates.ROOT]
backfill = true
[templates.ROOT.lifecycle]
keep_last = 5
"""


@pytest.fixture
def config_file(tmp_path: Path, aws: boto3.session.Session) -> Path:
    path = tmp_path / "ecrcache.toml"
    path.write_text(CONFIG)
    return path


def test_plan_notes_the_root_names_it_left_alone(
    config_file: Path, aws: boto3.session.Session, capsys: pytest.CaptureFixture[str]
) -> None:
    rules_only = config_file.with_name("rules.toml")
    rules_only.write_text(CONFIG.split("[templates.ROOT]")[0])
    assert cli(capsys, "apply", "-c", str(rules_only), "--yes")[0] == 0
    # pulled before the template existed: no lifecycle policy yet
    simulate_pull(account_id="123456789012", region="af-south-1", repository="library/nginx")
    aws.client("ecr").create_repository(repositoryName="team/app")
    assert cli(capsys, "apply", "-c", str(config_file), "--yes")[0] == 0
    code, out, err = cli(capsys, "plan", "-c", str(config_file), "--detailed-exitcode")
    assert code == 0 and "No changes." in out
    assert "backfill left 2 repositories alone" in err
    assert "templates.ROOT.backfill_repositories" in err
    code, out, _ = cli(capsys, "plan", "-c", str(config_file), "-o", "json")
    assert code == 0
    assert any("backfill left 2 repositories alone" in w for w in json.loads(out)["warnings"])

    config_file.write_text(
        CONFIG.replace(
            "backfill = true\n", 'backfill = true\nbackfill_repositories = ["library/*"]\n'
        )
    )
    code, out, err = cli(capsys, "plan", "-c", str(config_file), "--detailed-exitcode")
    assert code == 2 and "repository-settings.library/nginx" in out
    assert "team/app" not in out
    assert "backfill left 1 repository alone" in err and "(team/app)" in err
    assert cli(capsys, "apply", "-c", str(config_file), "--yes")[0] == 0
    assert cli(capsys, "plan", "-c", str(config_file), "--detailed-exitcode")[0] == 0


def test_a_bad_pattern_is_one_line_and_a_hint(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file.write_text(
        CONFIG.replace("backfill = true\n", 'backfill = true\nbackfill_repositories = ["*"]\n')
    )
    code, _, err = cli(capsys, "validate", "-c", str(config_file))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 2, err
    assert "templates.ROOT.backfill_repositories" in lines[0] and "'*'" in lines[0]
    assert lines[1].startswith("Hint:")
