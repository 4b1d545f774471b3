"""cost, status, prune planning and the report document: pure, on hand-built images."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from ecrcache.config.cost import CostConfig
from ecrcache.cost.document import report_doc, write_csv
from ecrcache.cost.pricing import GB, prices_for
from ecrcache.cost.prune import plan_prune
from ecrcache.cost.report import (
    APPLICATION,
    ROOT,
    UNMANAGED,
    ImageRecord,
    Repository,
    classify,
    cost_report,
    groups_of,
)
from ecrcache.cost.status import prefix_status, scan_frequency

NOW = datetime(2026, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)
US = prices_for("us-east-1")


def img(
    digest: str, size: int, *, tags: tuple[str, ...] = (), days: int = 0, **kw: object
) -> ImageRecord:
    return ImageRecord(digest=digest, tags=tags, size_bytes=size, pushed_at=NOW - days * DAY, **kw)  # type: ignore[arg-type]


INDEX = img("idx", 3 * GB, tags=("v1",), children=("amd", "arm", "missing"), days=10)
AMD = img("amd", 3 * GB, days=10)
ARM = img("arm", 2 * GB, days=10, last_pulled_at=NOW - 1 * DAY)
SIG = img("sig", 1000, days=9, subject="idx")


def test_groups_gather_children_and_referrers() -> None:
    lone = img("lone", GB, days=50)
    groups = groups_of([SIG, AMD, INDEX, ARM, lone])
    assert [g.head.digest for g in groups] == ["lone", "idx"]  # oldest push first
    index = groups[1]
    assert [c.digest for c in index.children] == ["amd", "arm"]
    assert [r.digest for r in index.referrers] == ["sig"]
    assert (
        index.counted_bytes == 3 * GB + 1000
    )  # the index's size (its largest child) + the signature
    assert index.last_pulled_at == NOW - DAY  # a child's pull counts for the group
    assert groups[0].last_used_at == NOW - 50 * DAY  # never pulled: the push


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("docker-hub/library/nginx", "docker-hub"),
        ("docker-hub/x", "docker-hub"),
        ("docker-hubx/y", ROOT),
        ("docker-hub/myorg/app", "docker-hub/myorg"),
        ("team/api", APPLICATION),
        ("anything", ROOT),
    ],
)
def test_classify_with_root(name: str, expected: str) -> None:
    prefixes = ["docker-hub", "docker-hub/myorg", ROOT]
    assert classify(name, prefixes, ["team/api"]) == expected


def test_classify_without_root() -> None:
    assert classify("legacy/tool", ["quay"], []) == UNMANAGED


def test_report_counts_archive_at_its_price_and_is_stable() -> None:
    prices = prices_for("us-east-1", overrides={"archive_gb_month": 0.05})
    repo = Repository(
        "quay/a",
        (
            img("hot", 2 * GB, tags=("1",), days=1),
            img("cold", 4 * GB, tags=("0",), days=400, archived=True),
        ),
    )
    r = cost_report([repo], prefixes={"quay": "quay"}, prices=prices, now=NOW)
    assert r.total.stored_bytes == 2 * GB and r.total.archived_bytes == 4 * GB
    assert r.total.monthly_usd == pytest.approx(2 * 0.10 + 4 * 0.05)
    assert (r.stale.images, r.stale.monthly_usd) == (1, pytest.approx(0.20))
    assert r.untagged.images == 0
    doc = report_doc(r)
    assert doc["total"]["monthly_usd"] == 0.4 and doc["per_upstream"][0]["upstream"] == "quay"
    assert json.loads(json.dumps(doc, default=str)) == json.loads(
        json.dumps(report_doc(r), default=str)
    )


def test_lifecycle_what_if_on_ecr_documented_count_example() -> None:
    # "Filtering on image count": keep only one untagged image, expire all others
    # (lifecycle_policy_examples.html). Three untagged images: the two oldest pushes go.
    policy = json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": "Keep only one untagged image, expire all others",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "imageCountMoreThan",
                        "countNumber": 1,
                    },
                    "action": {"type": "expire"},
                }
            ]
        }
    )
    repo = Repository(
        "k8s/pause",
        (
            img("u1", GB, days=30),
            img("u2", 2 * GB, days=20),
            img("u3", 4 * GB, days=10),
            img("t", 8 * GB, tags=("3.9",), days=40),
            INDEX,
            AMD,
            ARM,
        ),
    )
    r = cost_report(
        [repo], prefixes={"k8s": "k8s"}, templates={ROOT: policy, "other": None}, prices=US, now=NOW
    )
    [what_if] = r.lifecycle
    assert what_if.template == ROOT and what_if.repositories == 1
    # platform images of the tagged index are not "untagged images" to the evaluator
    assert (what_if.expire.images, what_if.expire.bytes) == (2, 3 * GB)
    assert what_if.expire.monthly_usd == pytest.approx(0.30)


def test_a_bad_template_policy_is_reported_not_raised() -> None:
    repo = Repository("k8s/pause", (img("u1", GB),))
    r = cost_report(
        [repo], prefixes={"k8s": "k8s"}, templates={"k8s": '{"rules": []}'}, prices=US, now=NOW
    )
    assert r.lifecycle[0].problem


def test_csv_has_one_row_per_line() -> None:
    repo = Repository("quay/a", (img("a", GB, tags=("1",)),))
    r = cost_report([repo], prefixes={"quay": "quay"}, prices=US, now=NOW)
    out = io.StringIO()
    write_csv(r, out, actual=None)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [row["section"] for row in rows] == [
        "upstream",
        "repository",
        "total",
        "stale",
        "untagged",
        "stale_or_untagged",
    ]
    assert rows[2]["stored_bytes"] == str(GB) and rows[2]["monthly_usd"] == "0.10"


def test_scan_frequency_from_wildcard_rules() -> None:
    scanning = {
        "scanType": "ENHANCED",
        "rules": [
            {
                "scanFrequency": "SCAN_ON_PUSH",
                "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}],
            },
            {
                "scanFrequency": "CONTINUOUS_SCAN",
                "repositoryFilters": [{"filter": "prod-*", "filterType": "WILDCARD"}],
            },
        ],
    }
    assert scan_frequency("prod-api", scanning) == "CONTINUOUS_SCAN"
    assert scan_frequency("docker-hub/x", scanning) == "SCAN_ON_PUSH"
    assert scan_frequency("x", {"scanType": "BASIC", "rules": []}) == "MANUAL"


def test_status_lines() -> None:
    a = Repository("quay/a", (img("a1", GB, tags=("1",), last_pulled_at=NOW - 2 * DAY),))
    b = Repository(
        "quay/b", (img("b1", 2 * GB, tags=("1",), last_pulled_at=NOW - 40 * DAY), img("b2", GB))
    )
    on_push = {
        "rules": [
            {
                "scanFrequency": "SCAN_ON_PUSH",
                "repositoryFilters": [{"filter": "quay/a", "filterType": "WILDCARD"}],
            }
        ]
    }
    lines = prefix_status(
        [a, b],
        prefixes={"quay": "quay", "k8s": "k8s"},
        templates={"quay": '{"rules":[]}'},
        repository_policies={"quay/a": '{ "rules": [] }', "quay/b": None},
        scanning=on_push,
        wanted_scanning={"rules": []},
    )
    k8s, quay = lines
    assert (k8s.repositories, k8s.images, k8s.template) == (0, 0, None)
    assert (quay.repositories, quay.images, quay.stored_bytes) == (2, 3, 4 * GB)
    assert quay.newest_pull == NOW - 2 * DAY and quay.oldest_pull == NOW - 40 * DAY
    assert quay.never_pulled == 1
    assert quay.lifecycle_differs == ("quay/b",)  # quay/a's policy is the template's, reformatted
    assert quay.scan_frequency == "mixed" and quay.scan_differs == ("quay/a",)


def test_prune_plan_keeps_an_index_whole() -> None:
    repo = Repository("k8s/pause", (INDEX, AMD, ARM, SIG, img("old", GB, tags=("1",), days=200)))
    plan = plan_prune([repo], prefixes=["k8s"], older_than_days=5, now=NOW)
    [d] = plan.deletions
    # the index (pulled through its arm64 image yesterday) stays, with its children
    assert (d.first, d.then, d.images) == (("old",), (), 1)
    plan = plan_prune([repo], prefixes=["k8s"], older_than_days=5, now=NOW + 30 * DAY)
    [d] = plan.deletions
    assert set(d.first) == {"old", "idx", "sig"} and set(d.then) == {"amd", "arm"}
    assert plan.share == 1.0 and plan.unsafe_reason(0.5) is None  # 2 images: under the minimum


def test_cost_config_section() -> None:
    c = CostConfig.model_validate(
        {
            "free_tier_500mb": True,
            "prices": {"storage_gb_month": 0.11},
            "region_prices": {"af-south-1": {}},
        }
    )
    assert c.stale_after_days == 90 and c.prices.as_dict() == {"storage_gb_month": 0.11}
    with pytest.raises(ValidationError):
        CostConfig.model_validate({"prices": {"storage": 1}})
    with pytest.raises(ValidationError):
        CostConfig.model_validate({"stale_after_days": 0})
