"""ECR prices per region, with overrides from the config. Pure.

Figures as of ``PRICES_AS_OF``, from /work/shared/ECR-FACTS.md §6. The official pricing page was
not available to check them, so every figure names its source and says whether it is confirmed:
- storage $0.10/GB-month (us-east-1): third-party copies of the pricing page (cloudburn.io,
  wring.co), March 2026;
- archive class: the same $0.10/GB-month for the first 150 TB, then $0.07 (third-party, pointfive;
  Tokyo figures in dev.classmethod.jp); a retrieval charge and a 90-day minimum apply;
- transfer to compute in the same region $0.00/GB (third-party, same sources); to the internet
  $0.09/GB after the first GB, up to 10 TB (cloudburn); cross-region: sources disagree ($0.09 vs
  $0.01-0.02), the usual $0.02 is used here, unverified.
A region without a row (af-south-1 among them: no confirmed rate) uses us-east-1's figures, and
the report says so. Override any figure in ``[cost.prices]`` or ``[cost.region_prices.<region>]``.

A GB is 2^30 bytes, as AWS bills storage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

PRICES_AS_OF = "2026-03"
GB = 1024**3
FREE_TIER_BYTES = 500 * 1024**2  # legacy 12-month offer: 500 MB-month of private storage
ARCHIVE_TIER_BYTES = 150 * 1024**4  # archive price drops above 150 TB
ARCHIVE_ABOVE_150TB_GB_MONTH = 0.07

PRICE_FIELDS = (
    "storage_gb_month",
    "archive_gb_month",
    "transfer_same_region_gb",
    "transfer_cross_region_gb",
    "transfer_internet_gb",
)


@dataclass(frozen=True)
class Prices:
    """USD prices for one region. ``unverified`` names the fields no confirmed source backs."""

    region: str
    storage_gb_month: float
    archive_gb_month: float
    transfer_same_region_gb: float
    transfer_cross_region_gb: float
    transfer_internet_gb: float
    source: str
    unverified: tuple[str, ...] = ()
    overridden: tuple[str, ...] = ()

    def notes(self) -> tuple[str, ...]:
        """One sentence per caveat the report must show."""
        out = []
        if self.source.startswith("no price row"):
            out.append(
                f"no confirmed ECR rate for {self.region}: us-east-1's figures are used; set "
                f"[cost.region_prices.{self.region}] to the rate on the pricing page"
            )
        doubtful = [f for f in self.unverified if f not in self.overridden]
        if doubtful:
            out.append("unverified price figures: " + ", ".join(doubtful))
        return tuple(out)


_US_EAST_1 = Prices(
    region="us-east-1",
    storage_gb_month=0.10,
    archive_gb_month=0.10,
    transfer_same_region_gb=0.00,
    transfer_cross_region_gb=0.02,
    transfer_internet_gb=0.09,
    source=f"third-party copies of the ECR pricing page, {PRICES_AS_OF}",
    unverified=("transfer_cross_region_gb",),
)

# Regions with figures of their own. Only us-east-1 has even a third-party source today.
PRICE_TABLE: Mapping[str, Prices] = {"us-east-1": _US_EAST_1}


def prices_for(
    region: str,
    *,
    overrides: Mapping[str, float] | None = None,
    region_overrides: Mapping[str, Mapping[str, float]] | None = None,
) -> Prices:
    """The prices for ``region``: its table row (else us-east-1's, flagged), then the config's
    ``region_prices`` row for it, then ``prices``. Overridden figures count as verified."""
    row = PRICE_TABLE.get(region)
    if row is None:
        all_fields = PRICE_FIELDS
        row = replace(
            _US_EAST_1,
            source=f"no price row for {region}; us-east-1's figures ({_US_EAST_1.source})",
            unverified=all_fields,
        )
    merged: dict[str, float] = {}
    merged.update((region_overrides or {}).get(region, {}))
    merged.update(overrides or {})
    unknown = set(merged) - set(PRICE_FIELDS)
    if unknown:
        raise ValueError(f"unknown price fields: {', '.join(sorted(unknown))}")
    figures: dict[str, Any] = {f: merged.get(f, getattr(row, f)) for f in PRICE_FIELDS}
    overridden = tuple(f for f in PRICE_FIELDS if f in merged)
    return Prices(
        region=region,
        source=row.source,
        unverified=row.unverified,
        overridden=overridden,
        **figures,
    )


def storage_cost(stored_bytes: int, prices: Prices) -> float:
    """Monthly USD for ``stored_bytes`` in the standard class."""
    return stored_bytes / GB * prices.storage_gb_month


def archive_cost(archived_bytes: int, prices: Prices) -> float:
    """Monthly USD for ``archived_bytes`` in the archive class (cheaper above 150 TB)."""
    low = min(archived_bytes, ARCHIVE_TIER_BYTES)
    high = archived_bytes - low
    high_price = min(prices.archive_gb_month, ARCHIVE_ABOVE_150TB_GB_MONTH)
    return low / GB * prices.archive_gb_month + high / GB * high_price


def free_tier_credit(standard_bytes: int, prices: Prices, *, has_free_tier: bool) -> float:
    """What the legacy 500 MB-month offer takes off the bill; 0 when the account lacks it.

    Accounts created from 15 July 2025 have credits instead, and older ones only within their
    first 12 months (ECR-FACTS §6): ``has_free_tier`` comes from the config, never assumed.
    """
    if not has_free_tier:
        return 0.0
    return min(standard_bytes, FREE_TIER_BYTES) / GB * prices.storage_gb_month
