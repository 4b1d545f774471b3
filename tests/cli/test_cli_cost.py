"""cost-report through the CLI, on a seeded moto account (text, JSON, CSV, --actual)."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

sys.path.insert(0, str(Path(__file__).parents[1] / "aws"))
from cli_support import cli
from cost_seed import GIB, seed

CONFIG = """
region = "af-south-1"

# the rules seed() creates
[rules.ecr-public]
upstream = "ecr-public"
[rules.quay]
upstream = "quay"
[rules.k8s]
upstream = "k8s"

[repositories."team/api"]
tag_mutability = "IMMUTABLE"

[cost]
free_tier_500mb = true
stale_after_days = 90

[cost.region_prices.af-south-1]
storage_gb_month = 0.20
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aws: boto3.session.Session) -> Path:
    monkeypatch.chdir(tmp_path)
    seed(aws)
    path = tmp_path / "ecrcache.toml"
    path.write_text(CONFIG)
    return path


def test_json_figures(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "cost-report", "-c", str(config), "-o", "json", "--top", "2")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["command"] == "cost-report" and doc["ok"]
    data = doc["data"]
    assert data["prices"]["storage_gb_month"] == 0.20  # the region row from the config
    lines = {ln["name"]: ln for ln in data["per_upstream"]}
    assert lines["ecr-public"]["stored_bytes"] == 3 * GIB + GIB // 4
    assert lines["ecr-public"]["monthly_usd"] == 0.65  # 3.25 GiB x $0.20
    assert lines["(application)"]["stored_bytes"] == GIB  # team/api from [repositories]
    # 6.25 GiB x $0.20 = $1.25; the legacy free tier takes 500/1024 GiB x $0.20 off
    assert data["total"]["monthly_usd"] == 1.25
    assert data["total"]["free_tier_credit_usd"] == round(500 / 1024 * 0.20, 2)
    assert data["total"]["net_monthly_usd"] == round(1.25 - 500 / 1024 * 0.20, 2)
    assert [r["name"] for r in data["top_repositories"]] == [
        "ecr-public/library/nginx",
        "quay/prometheus/prometheus",
    ]
    assert (data["stale"]["images"], data["stale"]["bytes"]) == (2, 2 * GIB)
    assert data["untagged"]["bytes"] == GIB // 2
    assert "largest platform image" in data["method"]
    assert data["actual"] is None
    assert any("af-south-1" in w for w in doc["warnings"])


def test_text(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "cost-report", "-c", str(config), "--no-color")
    assert code == 0, err
    assert "ecr-public/library/nginx" in out and "Per upstream" in out
    assert "stale: 2 images, 2.00 GB" in out
    assert "Docker Hub pull limits" in out
    assert "no confirmed ECR rate for af-south-1" in out


def test_csv(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "cost-report", "-c", str(config), "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    total = next(r for r in rows if r["section"] == "total")
    assert total["stored_bytes"] == str(6 * GIB + GIB // 4) and total["monthly_usd"] == "1.25"


def test_bad_format(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "cost-report", "-c", str(config), "--format", "xml")
    assert code == 2 and "--format" in err


def test_actual_from_cost_explorer(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import requests

    results = {
        "results": [
            {
                "ResultsByTime": [
                    {
                        "TimePeriod": {"Start": f"2026-0{m}-01", "End": f"2026-0{m + 1}-01"},
                        "Total": {"UnblendedCost": {"Amount": f"{m}.5", "Unit": "USD"}},
                        "Groups": [],
                        "Estimated": False,
                    }
                    for m in (1, 2, 3)
                ]
            }
        ]
    }
    resp = requests.post(
        "http://motoapi.amazonaws.com/moto-api/static/ce/cost-and-usage-results", json=results
    )
    assert resp.status_code == 201
    code, out, err = cli(capsys, "cost-report", "-c", str(config), "-o", "json", "--actual")
    assert code == 0, err
    actual = json.loads(out)["data"]["actual"]
    assert [(a["start"], a["amount"]) for a in actual] == [
        ("2026-01-01", 1.5),
        ("2026-02-01", 2.5),
        ("2026-03-01", 3.5),
    ]


def test_actual_access_denied(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import date

    from ecrcache.aws import Clients
    from ecrcache.cost.explorer import actual_costs, month_range
    from ecrcache.errors import AwsAccessError

    assert month_range(date(2026, 2, 17), 3) == ("2025-11-01", "2026-02-01")
    clients = Clients(boto3.session.Session(region_name="af-south-1"), "af-south-1")
    ce = clients._client("ce")
    stub = Stubber(ce)
    stub.add_client_error("get_cost_and_usage", "AccessDeniedException", "not allowed")
    monkeypatch.setattr(clients, "_client", lambda service: ce)
    with stub, pytest.raises(AwsAccessError, match="Cost Explorer"):
        actual_costs(clients, today=date(2026, 2, 17))
