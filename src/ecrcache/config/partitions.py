"""AWS partitions (aws, aws-cn, aws-us-gov, aws-eusc, the ISO ones, ...) from botocore's own data.

botocore ships ``data/partitions.json``: every partition's id, region pattern, known regions and
DNS suffix, the table its endpoint rules resolve regions with. Hand-written prefixes drift (they
missed ``aws-eusc`` and the ISO partitions), so read that file instead.

Pure and cheap: the JSON file is found with ``importlib.util.find_spec`` and read once; botocore
itself is not imported, so ``ecrcache rewrite`` still starts without boto3 or botocore.
"""

from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Partition:
    """One partition as partitions.json describes it."""

    id: str  # as ARNs spell it: arn:<id>:...
    dns_suffix: str
    region_regex: str
    regions: frozenset[str]


def _data_file() -> Path:
    spec = importlib.util.find_spec("botocore")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("botocore is not installed (it comes with boto3, a dependency)")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "partitions.json"


@lru_cache(maxsize=1)
def partitions() -> tuple[Partition, ...]:
    """Every partition botocore knows, in the file's order (the order botocore matches in)."""
    doc: dict[str, Any] = json.loads(_data_file().read_text(encoding="utf-8"))
    return tuple(
        Partition(
            id=p["id"],
            dns_suffix=p["outputs"]["dnsSuffix"],
            region_regex=p["regionRegex"],
            regions=frozenset(p.get("regions", {})),
        )
        for p in doc["partitions"]
    )


@lru_cache(maxsize=256)
def partition_for(region: str) -> Partition:
    """The partition of ``region``, matched as botocore's endpoint rules do
    (``EndpointRulesetResolver``'s ``aws.partition``): the first partition that lists the region
    or whose region pattern matches it; otherwise the first partition (``aws``)."""
    table = partitions()
    for p in table:
        if region in p.regions or re.match(p.region_regex, region):
            return p
    return table[0]


def dns_suffix_pattern() -> str:
    """A regular expression (a group) matching any partition's DNS suffix, for host names."""
    suffixes = sorted({p.dns_suffix for p in partitions()}, key=lambda s: (-len(s), s))
    return "(" + "|".join(re.escape(s) for s in suffixes) + ")"
