"""Tables that survive a pipe: at 80 columns, and through a pipe (rich's 80 by default), status,
cost-report, outputs and warm never cut a value with an ellipsis; every identifier, date and
number appears whole on one line (a table that does not fit becomes one record per row)."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cli_support import cli

sys.path.insert(0, str(Path(__file__).parents[1] / "aws"))
sys.path.insert(0, str(Path(__file__).parents[1]))
from cost_seed import GIB, REGION, pull, seed

from ecrcache.render.console import console
from ecrcache.render.tables import Column, print_table
from serve_support import ecrcache_command, serve_env

LONG_PREFIX = "a-very-long-cache-prefix-name1"  # 30 characters: ECR's longest
LONG_REPO = f"{LONG_PREFIX}/an-organisation-with-a-long-name/an-image-with-a-long-name-too"
HOST = f"123456789012.dkr.ecr.{REGION}.amazonaws.com"
CONFIG = f"""
version = 1
region = "{REGION}"

[rules.ecr-public]
upstream = "ecr-public"
[rules.quay]
upstream = "quay"
[rules.k8s]
upstream = "k8s"
[rules.{LONG_PREFIX}]
upstream = "github-container-registry"
[rules.{LONG_PREFIX}.credentials]
secret = "ecr-pullthroughcache/{LONG_PREFIX}-credentials"
"""
CUT = ("…", "...")


@pytest.fixture
def seeded_sandbox(aws_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The cost seed plus a rule and repository with ECR's longest names, in the sandbox."""
    from ecrcache.sandbox.runtime import open_sandbox

    monkeypatch.chdir(tmp_path)
    with open_sandbox(region=REGION, state_path=aws_env) as session:
        now = seed(session)
        session.client("secretsmanager", region_name=REGION).create_secret(
            Name=f"ecr-pullthroughcache/{LONG_PREFIX}-credentials",
            SecretString='{"username": "u", "accessToken": "t"}',
        )
        session.client("ecr", region_name=REGION).create_pull_through_cache_rule(
            ecrRepositoryPrefix=LONG_PREFIX,
            upstreamRegistryUrl="ghcr.io",
            upstreamRegistry="github-container-registry",
            credentialArn="arn:aws:secretsmanager:af-south-1:123456789012:secret:"
            f"ecr-pullthroughcache/{LONG_PREFIX}-credentials",
        )
        pull(LONG_REPO, "v1.2.3-with-a-long-tag", (GIB // 8,), now - timedelta(days=3))
    config = tmp_path / "ecrcache.toml"
    config.write_text(CONFIG)
    return config


def assert_whole(out: str, *values: str) -> None:
    lines = out.splitlines()
    for cut in CUT:
        assert not [ln for ln in lines if cut in ln], f"a line holds {cut!r}:\n{out}"
    for value in values:
        assert any(value in ln for ln in lines), f"{value!r} is not whole on any line:\n{out}"
    assert lines, "no output"


def _dates(out: str) -> list[str]:
    return re.findall(r"\d{4}-\d{2}-\d{2}", out)


def test_status_at_80_columns(
    seeded_sandbox: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = cli(capsys, "--sandbox", "--no-color", "status")
    assert code == 0, err
    assert_whole(out, LONG_PREFIX, "ecr-public", "github-container-registry", "matches ecr-public")
    today = datetime.now(UTC) - timedelta(days=3)
    assert today.strftime("%Y-%m-%d") in _dates(out)  # the long repository's pull date, whole


def test_cost_report_at_80_columns(
    seeded_sandbox: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = cli(capsys, "--sandbox", "--no-color", "cost-report", "--top", "10")
    assert code == 0, err
    assert_whole(out, LONG_REPO, LONG_PREFIX, "ecr-public/library/nginx", "Per upstream")


def test_outputs_at_80_columns(
    seeded_sandbox: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = cli(capsys, "--sandbox", "--no-color", "outputs")
    assert code == 0, err
    cached = f"{HOST}/quay/prometheus/node-exporter:v1.8.0"
    assert_whole(out, f"{HOST}/{LONG_PREFIX}/", f"{HOST}/quay/", cached)
    # records, not a 186-column table: only a value longer than the console passes its edge
    for line in out.split("\n\n", 1)[1].splitlines():
        assert len(line) <= 80 or " " not in line.strip().removeprefix("→ "), out


@pytest.mark.parametrize("command", ["status", "cost-report", "outputs"])
def test_through_a_pipe(seeded_sandbox: Path, aws_env: Path, command: str) -> None:
    env = serve_env(aws_env)
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    done = subprocess.run(
        ecrcache_command("--sandbox", command),
        env=env,
        cwd=seeded_sandbox.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert_whole(done.stdout, LONG_PREFIX)
    if command == "cost-report":
        assert_whole(done.stdout, LONG_REPO)


def test_a_table_that_fits_stays_a_table() -> None:
    out = io.StringIO()
    c = console(out, no_color=True)
    c.width = 80
    print_table(c, [Column("name"), Column("n", "right")], [("alpha", "1"), ("beta", "22")])
    lines = out.getvalue().splitlines()
    assert any(re.fullmatch(r"│ alpha │  1 │", ln) for ln in lines), out.getvalue()


def test_a_table_too_wide_becomes_records() -> None:
    out = io.StringIO()
    c = console(out, no_color=True)
    c.width = 40
    arn = "arn:aws:iam::123456789012:role/a-role-with-a-rather-long-name"
    print_table(
        c, [Column("name"), Column("role"), Column("n", "right")], [("alpha", arn, "12345")]
    )
    assert out.getvalue().splitlines() == ["alpha", "  role:", f"    {arn}", "  n:    12345"]
