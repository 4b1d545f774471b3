"""cost-report as data: the JSON document, CSV rows, and the Docker Hub comparison. Pure.

Money is rounded to the cent only here, at the edge; bytes stay exact.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any, TextIO

from ecrcache.cost.explorer import MonthlyCost
from ecrcache.cost.pricing import GB
from ecrcache.cost.report import METHOD, PULL_TIME_NOTE, CostReport, Line, Savings, Usage

# Docker Hub, for comparison (ECR-FACTS §6: docs.docker.com usage pages, docs commit 17c998c of
# 2025-03-27; docker.com/pricing/faq for Team). Pro and Business prices were not found.
DOCKER_HUB = (
    "Docker Hub pull limits: unauthenticated 100 pulls per 6 hours per IPv4 address or IPv6 /64 "
    "(every node behind one NAT shares them); Personal (free) 200 per 6 hours; Pro, Team and "
    "Business unlimited under fair use. A multi-arch pull counts once per architecture.",
    "Docker plans: Personal free; Team $15/user/month billed yearly or $16 monthly; Pro and "
    "Business prices unverified (see docker.com/pricing).",
    "Through the cache, Docker Hub sees one authenticated account, and a tag is re-checked "
    "upstream at most about once a day whatever the number of pulls.",
)


def _money(x: float) -> float:
    return round(x, 2)


def _usage(u: Usage) -> dict[str, Any]:
    return {
        "repositories": u.repositories,
        "images": u.images,
        "stored_bytes": u.stored_bytes,
        "archived_bytes": u.archived_bytes,
        "monthly_usd": _money(u.monthly_usd),
    }


def _savings(s: Savings) -> dict[str, Any]:
    return {"images": s.images, "bytes": s.bytes, "monthly_usd": _money(s.monthly_usd)}


def _line(line: Line, key: str) -> dict[str, Any]:
    return {"name": line.name, key: line.group, **_usage(line.usage)}


def docker_hub_lines(report: CostReport, docker_hub_prefixes: Sequence[str]) -> tuple[str, ...]:
    """The comparison, with what the Docker Hub prefixes cost here."""
    lines = [ln for ln in report.per_prefix if ln.name in docker_hub_prefixes]
    if not lines:
        return DOCKER_HUB
    cost = sum(ln.usage.monthly_usd for ln in lines)
    size = sum(ln.usage.total_bytes for ln in lines) / GB
    return (
        *DOCKER_HUB,
        f"The Docker Hub cache here ({', '.join(ln.name for ln in lines)}) stores {size:.2f} GB "
        f"for ${cost:.2f}/month.",
    )


def stale_source_line(report: CostReport) -> str:
    """Which pull times decided "stale", in one sentence (text and JSON say the same)."""
    note = f" {report.stale_source_note}" if report.stale_source_note else ""
    if report.stale_source == "cloudwatch":
        return (
            "CloudWatch AWS/ECR RepositoryPullCount (per repository and day) for a repository "
            "holding one image, where a pull of the repository is a pull of that image and "
            f"the metric's is the newer ({report.stale_kept_by_metric} image(s) not stale by "
            "it); lastRecordedPullTime for the others, as the metric does not say which image "
            f"was pulled.{note}"
        )
    return f"lastRecordedPullTime.{note}"


def report_doc(
    report: CostReport,
    *,
    actual: Sequence[MonthlyCost] | None = None,
    docker_hub_prefixes: Sequence[str] = (),
) -> dict[str, Any]:
    """The JSON ``data`` of cost-report."""
    return {
        "region": report.region,
        "generated_at": report.generated_at.isoformat(),
        "method": METHOD,
        "pull_times": PULL_TIME_NOTE,
        "prices": asdict(report.prices),
        "per_upstream": [_line(ln, "upstream") for ln in report.per_prefix],
        "top_repositories": [_line(ln, "prefix") for ln in report.top_repositories],
        "total": {
            **_usage(report.total),
            "free_tier_credit_usd": _money(report.free_tier_credit_usd),
            "net_monthly_usd": _money(report.net_monthly_usd),
        },
        "stale_after_days": report.stale_after_days,
        "stale": _savings(report.stale),
        "stale_source": {
            "source": report.stale_source,
            "kept_by_metric": report.stale_kept_by_metric,
            "note": stale_source_line(report),
        },
        "untagged": _savings(report.untagged),
        "stale_or_untagged": _savings(report.stale_or_untagged),
        "lifecycle": [
            {
                "template": w.template,
                "repositories": w.repositories,
                "expire": _savings(w.expire),
                "transition_bytes": w.transition_bytes,
                "problem": w.problem,
            }
            for w in report.lifecycle
        ],
        "docker_hub": list(docker_hub_lines(report, docker_hub_prefixes)),
        "actual": None if actual is None else [asdict(m) for m in actual],
        "notes": list(report.notes),
    }


CSV_HEADER = (
    "section",
    "name",
    "group",
    "repositories",
    "images",
    "stored_bytes",
    "archived_bytes",
    "monthly_usd",
)


def write_csv(report: CostReport, out: TextIO, *, actual: Sequence[MonthlyCost] | None) -> None:
    """One table, a ``section`` column telling the rows apart (upstream, repository, total,
    stale, untagged, stale_or_untagged, lifecycle, actual)."""
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_HEADER)

    def usage_row(section: str, name: str, group: str, u: Usage) -> None:
        money = f"{u.monthly_usd:.2f}"
        w.writerow(
            (
                section,
                name,
                group,
                u.repositories,
                u.images,
                u.stored_bytes,
                u.archived_bytes,
                money,
            )
        )

    for ln in report.per_prefix:
        usage_row("upstream", ln.name, ln.group, ln.usage)
    for ln in report.top_repositories:
        usage_row("repository", ln.name, ln.group, ln.usage)
    usage_row("total", "", "", report.total)
    for section, s in (
        ("stale", report.stale),
        ("untagged", report.untagged),
        ("stale_or_untagged", report.stale_or_untagged),
    ):
        w.writerow((section, "", "", "", s.images, s.bytes, "", f"{s.monthly_usd:.2f}"))
    for lc in report.lifecycle:
        money = f"{lc.expire.monthly_usd:.2f}"
        w.writerow(
            (
                "lifecycle",
                lc.template,
                "",
                lc.repositories,
                lc.expire.images,
                lc.expire.bytes,
                "",
                money,
            )
        )
    for m in actual or ():
        w.writerow(("actual", m.start, m.end, "", "", "", "", f"{m.amount:.2f}"))
