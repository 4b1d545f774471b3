"""status through the CLI, on a seeded moto account."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import boto3
import pytest

from ecrcache.cli.app import run

sys.path.insert(0, str(Path(__file__).parents[1] / "aws"))
from cost_seed import GIB, UNTAGGED_1, seed


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aws: boto3.session.Session) -> None:
    monkeypatch.chdir(tmp_path)  # no ecrcache.toml: --region is enough
    seed(aws)


def test_status_json(
    seeded: None, aws: boto3.session.Session, capsys: pytest.CaptureFixture[str]
) -> None:
    ecr = aws.client("ecr")
    # the template changed after nginx was cached: its repository keeps the old policy
    ecr.update_repository_creation_template(
        prefix="ecr-public",
        lifecyclePolicy=UNTAGGED_1.replace('"countNumber": 1', '"countNumber": 3'),
    )
    ecr.put_registry_scanning_configuration(
        scanType="BASIC",
        rules=[
            {
                "scanFrequency": "SCAN_ON_PUSH",
                "repositoryFilters": [{"filter": "quay/*", "filterType": "WILDCARD"}],
            }
        ],
    )
    code = run(["--region", "af-south-1", "status", "-o", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = {p["prefix"]: p for p in json.loads(out)["data"]["prefixes"]}
    assert list(lines) == ["ecr-public", "k8s", "quay"]
    nginx = lines["ecr-public"]
    assert (nginx["repositories"], nginx["images"], nginx["stored_bytes"]) == (
        1,
        4,
        3 * GIB + GIB // 4,
    )
    assert nginx["lifecycle_differs"] == ["ecr-public/library/nginx"]
    assert nginx["scan_frequency"] == "MANUAL"
    quay = lines["quay"]
    assert (quay["repositories"], quay["images"], quay["stored_bytes"]) == (
        2,
        2,
        GIB + 3 * GIB // 4,
    )
    # prometheus was pulled through ROOT's template; etcd was created by hand, without a policy
    assert quay["template"] == "ROOT" and quay["lifecycle_differs"] == ["quay/coreos/etcd"]
    assert quay["never_pulled"] == 1 and quay["scan_frequency"] == "SCAN_ON_PUSH"
    assert quay["newest_pull"] == quay["oldest_pull"]  # one pulled image
    assert lines["k8s"]["repositories"] == 0 and lines["k8s"]["newest_pull"] is None


def test_status_text(
    seeded: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # one table row per line
    code = run(["--region", "af-south-1", "--no-color", "status"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "ecr-public" in out and "matches ecr-public" in out
    assert "lifecycle differs: quay/coreos/etcd" in out


def test_status_needs_a_region(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    code = run(["status"])
    assert code == 2 and "no region" in capsys.readouterr().err
