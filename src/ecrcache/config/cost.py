"""The ``[cost]`` config section: price overrides, the legacy free tier, the stale threshold. Pure.

```toml
[cost]
free_tier_500mb = false        # only accounts still inside AWS's legacy 12-month offer have it
stale_after_days = 90          # an image not pulled for this long is stale

[cost.prices]                  # overrides for the configured region, USD
storage_gb_month = 0.10

[cost.region_prices.af-south-1]   # a whole row of the price table, per region
storage_gb_month = 0.11
```
"""

from __future__ import annotations

from pydantic import Field

from ecrcache.config.base import StrictModel


class PriceOverrides(StrictModel):
    """USD prices; a field left out keeps the built-in table's figure (see ``pricing``)."""

    storage_gb_month: float | None = Field(None, ge=0)
    archive_gb_month: float | None = Field(None, ge=0)
    transfer_same_region_gb: float | None = Field(None, ge=0)
    transfer_cross_region_gb: float | None = Field(None, ge=0)
    transfer_internet_gb: float | None = Field(None, ge=0)

    def as_dict(self) -> dict[str, float]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class CostConfig(StrictModel):
    """What cost-report, status and prune read from the config; every key has a default."""

    free_tier_500mb: bool = False
    stale_after_days: int = Field(90, ge=1, le=3650)
    prices: PriceOverrides = PriceOverrides()
    region_prices: dict[str, PriceOverrides] = Field(default_factory=dict)
