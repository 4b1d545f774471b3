"""pricing: the table, overrides, archive tiers, the legacy free tier."""

from __future__ import annotations

import pytest

from ecrcache.cost.pricing import GB, archive_cost, free_tier_credit, prices_for, storage_cost


def test_us_east_1_figures_and_their_doubts() -> None:
    p = prices_for("us-east-1")
    assert (p.storage_gb_month, p.archive_gb_month) == (0.10, 0.10)
    assert (p.transfer_same_region_gb, p.transfer_internet_gb) == (0.0, 0.09)
    assert p.unverified == ("transfer_cross_region_gb",)
    assert p.notes() == ("unverified price figures: transfer_cross_region_gb",)


def test_a_region_without_a_row_says_so() -> None:
    p = prices_for("af-south-1")
    assert p.region == "af-south-1" and p.storage_gb_month == 0.10
    assert any("no confirmed ECR rate for af-south-1" in n for n in p.notes())


def test_overrides_region_row_then_prices() -> None:
    p = prices_for(
        "af-south-1",
        overrides={"transfer_internet_gb": 0.154},
        region_overrides={"af-south-1": {"storage_gb_month": 0.12}, "eu-west-1": {"x": 1}},
    )
    assert (p.storage_gb_month, p.transfer_internet_gb) == (0.12, 0.154)
    assert p.overridden == ("storage_gb_month", "transfer_internet_gb")
    with pytest.raises(ValueError, match="unknown price fields"):
        prices_for("us-east-1", overrides={"storage": 1.0})


def test_costs() -> None:
    p = prices_for("us-east-1")
    assert storage_cost(3 * GB, p) == pytest.approx(0.30)
    tb150 = 150 * 1024 * GB
    # 150 TB at $0.10, the next 10 GB at $0.07
    assert archive_cost(tb150 + 10 * GB, p) == pytest.approx(150 * 1024 * 0.10 + 10 * 0.07)
    assert free_tier_credit(2 * GB, p, has_free_tier=False) == 0
    assert free_tier_credit(2 * GB, p, has_free_tier=True) == pytest.approx(500 / 1024 * 0.10)
    assert free_tier_credit(GB // 4, p, has_free_tier=True) == pytest.approx(0.025)
