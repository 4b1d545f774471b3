"""prune through the CLI: a dry run by default, exactly the stale set with --yes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import boto3
import pytest

from ecrcache.cli.app import run

sys.path.insert(0, str(Path(__file__).parents[1] / "aws"))
from cost_seed import GIB, seed


@pytest.fixture
def ecr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aws: boto3.session.Session) -> object:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ecrcache.toml").write_text(
        'region = "af-south-1"\n[repositories."team/api"]\n[cost]\nstale_after_days = 90\n'
        # the rules seed() creates
        '[rules.ecr-public]\nupstream = "ecr-public"\n[rules.quay]\nupstream = "quay"\n'
        '[rules.k8s]\nupstream = "k8s"\n'
    )
    seed(aws)
    return aws.client("ecr")


def digests(ecr: object) -> set[str]:
    out = set()
    for r in ecr.describe_repositories()["repositories"]:  # type: ignore[attr-defined]
        for d in ecr.describe_images(repositoryName=r["repositoryName"])["imageDetails"]:  # type: ignore[attr-defined]
            out.add(f"{r['repositoryName']}@{d['imageDigest']}")
    return out


def test_dry_run_deletes_nothing(ecr: object, capsys: pytest.CaptureFixture[str]) -> None:
    before = digests(ecr)
    code = run(["prune", "--no-color"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "would delete 2 of 6 images in scope (2.00 GB)" in out
    assert "Dry run" in out
    assert digests(ecr) == before


def test_yes_deletes_exactly_the_stale_set(ecr: object, capsys: pytest.CaptureFixture[str]) -> None:
    before = digests(ecr)
    code = run(["prune", "-o", "json"])
    plan = json.loads(capsys.readouterr().out)["data"]["plan"]
    stale = {f"{d['repository']}@{x}" for d in plan["deletions"] for x in d["digests"]}
    assert plan["bytes"] == 2 * GIB and len(stale) == 4  # nginx:1.26, prometheus index + 2
    code = run(["prune", "--yes", "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["data"]["result"]["deleted_images"] == 4
    assert digests(ecr) == before - stale


def test_named_application_repository(ecr: object, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(
        ["prune", "--older-than", "1", "--repository", "team/api", "-o", "json", "--yes", "--force"]
    )
    data = json.loads(capsys.readouterr().out)["data"]
    assert code == 0
    assert "team/api" not in {d["repository"] for d in data["plan"]["deletions"]}  # pushed now
    assert "legacy/tool" not in {d["repository"] for d in data["plan"]["deletions"]}


def test_threshold_needs_force(ecr: object, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import UTC, datetime, timedelta

    from cost_seed import ACCOUNT, REGION

    from ecrcache.sandbox.pulls import simulate_pull

    for i in range(11):  # 13 of 17 images in scope become stale: 76%
        simulate_pull(
            account_id=ACCOUNT,
            region=REGION,
            repository="ecr-public/library/redis",
            tag=f"7.{i}",
            layer_sizes=(1000 + i,),
            pulled_at=datetime.now(UTC) - timedelta(days=200),
        )
    before = digests(ecr)
    code = run(["prune", "--yes"])
    assert code == 5 and "--force" in capsys.readouterr().err
    assert digests(ecr) == before
    code = run(["prune", "--yes", "--max-share", "0.8"])
    assert code == 0
    assert len(before - digests(ecr)) == 4 + 11
