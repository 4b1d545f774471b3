"""inventory + cost report on a seeded moto account: every figure checked by hand.

The seed (``cost_seed``) is described there; the expected figures below are worked out from
that description, in GiB, at $0.10 per GB-month (us-east-1's figure, used for af-south-1).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import boto3
import pytest
from cost_seed import GIB, REGION, seed

from ecrcache.aws import Clients
from ecrcache.cost.inventory import Inventory, read_images, read_inventory
from ecrcache.cost.pricing import prices_for
from ecrcache.cost.report import APPLICATION, UNMANAGED, CostReport, cost_report

PRICE = 0.10
APPS = ["team/api"]


@pytest.fixture
def seeded(aws: boto3.session.Session) -> Iterator[tuple[Clients, datetime]]:
    now = seed(aws)
    yield Clients(aws, REGION), now


def report_for(inv: Inventory, now: datetime, **kw: Any) -> CostReport:
    return cost_report(
        inv.repositories,
        prefixes={r.prefix: r.upstream for r in inv.rules},
        applications=APPS,
        templates=inv.templates,
        prices=prices_for(REGION),
        now=now,
        top=3,
        **kw,
    )


def test_describe_images_reports_sizes_as_ecr_defines_them(
    seeded: tuple[Clients, datetime],
) -> None:
    clients, _ = seeded
    details = clients.ecr.describe_images(repositoryName="quay/coreos/etcd")["imageDetails"]
    sizes = sorted(d["imageSizeInBytes"] for d in details)
    # two platform images (layers 0.75 and 0.25 GiB) and the index: the largest child's size
    assert sizes == [GIB // 4, 3 * GIB // 4, 3 * GIB // 4]
    index = next(d for d in details if d.get("imageTags"))
    assert index["imageSizeInBytes"] == 3 * GIB // 4
    api = clients.ecr.describe_images(repositoryName="team/api")["imageDetails"]
    assert [d["imageSizeInBytes"] for d in api] == [GIB]  # layers, not the 7,023-byte config


def test_inventory_reads_every_repository_image_and_index(seeded: tuple[Clients, datetime]) -> None:
    clients, now = seeded
    inv = read_inventory(clients, concurrency=4)
    assert [r.name for r in inv.repositories] == [
        "ecr-public/library/nginx",
        "legacy/tool",
        "quay/coreos/etcd",
        "quay/prometheus/prometheus",
        "team/api",
    ]
    assert {r.prefix: r.upstream for r in inv.rules} == {
        "ecr-public": "ecr-public",
        "k8s": "k8s",
        "quay": "quay",
    }
    assert set(inv.templates) == {"ecr-public", "ROOT"}
    nginx = inv.repositories[0]
    assert sorted((i.tags, i.size_bytes) for i in nginx.images) == [
        ((), GIB // 2),
        (("1.26",), GIB),
        (("1.27",), GIB + GIB // 2),
        (("old",), GIB // 4),
    ]
    latest = next(i for i in nginx.images if i.tags == ("1.27",))
    assert (now - latest.pushed_at).days == 200 and (now - latest.last_pulled_at).days == 10  # type: ignore[operator]
    prom = inv.repositories[3]
    index = next(i for i in prom.images if i.tags)
    assert sorted(index.children) == sorted(i.digest for i in prom.images if not i.tags)
    # one call each for rules, templates and repositories; one DescribeImages per repository;
    # one BatchGetImage per repository holding an index
    assert sorted(clients.calls) == sorted(
        [
            "ecr.DescribePullThroughCacheRules",
            "ecr.DescribeRepositoryCreationTemplates",
            "ecr.DescribeRepositories",
            *["ecr.DescribeImages"] * 5,
            *["ecr.BatchGetImage"] * 2,
        ]
    )


def test_every_figure_of_the_report(seeded: tuple[Clients, datetime]) -> None:
    clients, now = seeded
    r = report_for(read_inventory(clients), now)
    lines = {ln.name: ln.usage for ln in r.per_prefix}
    assert [ln.name for ln in r.per_prefix] == ["ecr-public", "quay", APPLICATION, UNMANAGED]
    # nginx: 1.5 + 1 + 0.5 (untagged) + 0.25 GiB, four images
    assert (lines["ecr-public"].repositories, lines["ecr-public"].images) == (1, 4)
    assert lines["ecr-public"].stored_bytes == 3 * GIB + GIB // 4
    assert lines["ecr-public"].monthly_usd == pytest.approx(3.25 * PRICE)
    # two indexes, each counted once at its largest platform image: 1 GiB + 0.75 GiB
    assert (lines["quay"].repositories, lines["quay"].images) == (2, 2)
    assert lines["quay"].stored_bytes == GIB + 3 * GIB // 4
    assert lines["quay"].monthly_usd == pytest.approx(1.75 * PRICE)
    assert (lines[APPLICATION].images, lines[APPLICATION].stored_bytes) == (1, GIB)
    assert (lines[UNMANAGED].images, lines[UNMANAGED].stored_bytes) == (1, GIB // 4)
    assert (r.total.repositories, r.total.images) == (5, 8)
    assert r.total.stored_bytes == 6 * GIB + GIB // 4
    assert r.total.monthly_usd == pytest.approx(6.25 * PRICE)
    assert r.free_tier_credit_usd == 0 and r.net_monthly_usd == pytest.approx(0.625)
    # top 3 by size; prometheus and team/api tie at 1 GiB and are ordered by name
    assert [ln.name for ln in r.top_repositories] == [
        "ecr-public/library/nginx",
        "quay/prometheus/prometheus",
        "team/api",
    ]
    # stale (90 days): nginx:1.26 (pulled 120 days ago) and the prometheus index (100 days)
    assert (r.stale.images, r.stale.bytes) == (2, 2 * GIB)
    assert r.stale.monthly_usd == pytest.approx(0.2)
    # untagged: the 0.5 GiB nginx image only (platform images of an index do not count)
    assert (r.untagged.images, r.untagged.bytes) == (1, GIB // 2)
    assert (r.stale_or_untagged.images, r.stale_or_untagged.bytes) == (3, 2 * GIB + GIB // 2)
    assert r.stale_or_untagged.monthly_usd == pytest.approx(0.25)
    what_if = {w.template: w for w in r.lifecycle}
    # ROOT governs quay (no template of its own): expires the index pushed 100 days ago
    assert what_if["ROOT"].repositories == 2 and what_if["ROOT"].problem is None
    assert (what_if["ROOT"].expire.images, what_if["ROOT"].expire.bytes) == (1, GIB)
    # ecr-public's template: the untagged image pushed 5 days ago
    assert what_if["ecr-public"].repositories == 1
    assert (what_if["ecr-public"].expire.images, what_if["ecr-public"].expire.bytes) == (
        1,
        GIB // 2,
    )
    assert what_if["ecr-public"].expire.monthly_usd == pytest.approx(0.05)
    assert any("af-south-1" in n for n in r.notes)


def test_free_tier_and_stale_threshold(seeded: tuple[Clients, datetime]) -> None:
    clients, now = seeded
    r = report_for(read_inventory(clients), now, free_tier=True, stale_after_days=7)
    assert r.free_tier_credit_usd == pytest.approx(500 / 1024 * PRICE)
    assert r.net_monthly_usd == pytest.approx(0.625 - 500 / 1024 * PRICE)
    # 7 days: also nginx:1.27 (last pulled 10 days ago); "old" images pulled 4-5 days ago stay
    assert (r.stale.images, r.stale.bytes) == (3, 3 * GIB + GIB // 2)


def test_concurrency_does_not_change_the_result(seeded: tuple[Clients, datetime]) -> None:
    clients, _ = seeded
    seen: list[tuple[int, int]] = []
    one = read_inventory(clients, concurrency=1)
    ten = read_inventory(clients, concurrency=10, progress=lambda d, t: seen.append((d, t)))
    assert one.repositories == ten.repositories
    assert sorted(seen) == [(n, 5) for n in range(1, 6)]
    with pytest.raises(ValueError):
        read_inventory(clients, concurrency=11)


def test_a_repository_gone_meanwhile_is_left_out(seeded: tuple[Clients, datetime]) -> None:
    clients, _ = seeded
    repos = read_images(clients, ["team/api", "deleted/meanwhile"])
    assert [r.name for r in repos] == ["team/api"]
