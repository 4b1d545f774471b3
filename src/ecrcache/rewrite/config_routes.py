"""What rewrite reads from the config file, read without building the config's pydantic models.

``rewrite`` needs the region, the account and each rule's routing keys (prefix, upstream, url,
upstream_prefix); validating the whole file (credentials, templates, repositories, policies)
costs more than the rest of a rewrite's start-up. So a file whose routing keys are plainly right
is read here, and any other file goes to the one validator (``config.loading``): ``read_routes``
then returns None and the caller loads the config, whose messages say what is wrong. Plainly
right: TOML, ``version = 1``, a region botocore's partitions know, a 12-digit ``account_id`` if
any, no key the schema does not know, and rules with a known upstream, the URL that upstream
takes, and prefixes that make valid reference paths. ``validate``, ``plan`` and ``apply``
check the rest.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecrcache.config.partitions import partitions
from ecrcache.config.upstreams import UPSTREAMS
from ecrcache.errors import InvalidReferenceError
from ecrcache.rewrite import refs

ROOT = "ROOT"
# The schema's keys (config.schema.Config's fields; a [rules.<prefix>] table's are RuleConfig's,
# less the table key), so that a misspelt key goes to the validator and its "did you mean".
# tests/unit/test_rewrite_config_routes.py holds them equal to the models' fields.
TOP_KEYS = frozenset(
    {"version", "region", "account_id", "rules", "templates", "repositories", "scanning"}
    | {"pullers", "ci_policy", "monitoring", "safety", "cost", "hub", "spoke", "targets"}
)
RULE_KEYS = frozenset({"upstream", "url", "upstream_prefix", "credentials", "role_arn"})
_ACCOUNT = re.compile(r"[0-9]{12}")


@dataclass(frozen=True)
class RuleRoute:
    """A rule's routing keys (``mapping.RuleLike``)."""

    prefix: str
    upstream: str
    url: str | None = None
    upstream_prefix: str | None = None


@dataclass(frozen=True)
class Routes:
    """What ``cli.common.cache_mapping`` reads of a config: ``region``, ``account_id``,
    ``rule_list`` (sorted by prefix, as ``Config.rule_list``)."""

    region: str
    account_id: str | None
    rule_list: tuple[RuleRoute, ...]
    hub_account_id: str | None = None  # [spoke]: the hub's registry serves the pulls
    hub_region: str | None = None

    def registry_of(self, account_id: str, region: str) -> tuple[str, str]:
        """As ``Config.registry_of``: the hub's registry for a spoke."""
        if self.hub_account_id is None:
            return account_id, region
        return self.hub_account_id, self.hub_region or region


def read_routes(path: Path) -> Routes | None:
    """The config's routing keys, or None when the file is not plainly right (see above)."""
    try:
        doc = tomllib.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    if not set(doc) <= TOP_KEYS:
        return None
    region, account, rules = doc.get("region"), doc.get("account_id"), doc.get("rules", {})
    if doc.get("version", 1) != 1 or type(doc.get("version", 1)) is not int:
        return None
    if not isinstance(region, str) or not _known_region(region):
        return None
    if account is not None and not (isinstance(account, str) and _ACCOUNT.fullmatch(account)):
        return None
    if not isinstance(rules, Mapping):
        return None
    routes = [_route(prefix, body) for prefix, body in rules.items()]
    if any(route is None for route in routes):
        return None
    spoke = _spoke(doc.get("spoke"), account)
    if spoke is None or ("hub" in doc and "spoke" in doc):
        return None
    return Routes(
        region,
        account,
        tuple(sorted(filter(None, routes), key=lambda r: r.prefix)),
        hub_account_id=spoke[0],
        hub_region=spoke[1],
    )


def _spoke(body: Any, account: str | None) -> tuple[str | None, str | None] | None:
    """[spoke]'s hub account and region ((None, None) without the table), or None when it is
    not plainly right."""
    if body is None:
        return (None, None)
    if not isinstance(body, Mapping) or not set(body) <= {"hub_account_id", "hub_region"} | {
        "pull_policy"
    }:
        return None
    hub, region = body.get("hub_account_id"), body.get("hub_region")
    if not (isinstance(hub, str) and _ACCOUNT.fullmatch(hub)) or hub == account:
        return None
    if region is not None and not (isinstance(region, str) and _known_region(region)):
        return None
    return (hub, region)


def _known_region(region: str) -> bool:
    return any(region in p.regions or re.fullmatch(p.region_regex, region) for p in partitions())


def _route(prefix: str, body: Any) -> RuleRoute | None:
    if not isinstance(body, Mapping) or not set(body) <= RULE_KEYS:
        return None
    kind, url, upstream_prefix = body.get("upstream"), body.get("url"), body.get("upstream_prefix")
    up = UPSTREAMS.get(kind) if isinstance(kind, str) else None
    if up is None or not all(v is None or isinstance(v, str) for v in (url, upstream_prefix)):
        return None
    if up.url is not None and url not in (None, up.url):
        return None
    if up.url is None and (url is None or up.url_pattern is None or not up.url_pattern.match(url)):
        return None
    if upstream_prefix is not None and prefix == ROOT:
        return None
    for name in (prefix, upstream_prefix):
        if name is not None and name != ROOT and not _valid_path(name):
            return None
    assert isinstance(kind, str)
    return RuleRoute(prefix, kind, url, upstream_prefix)


def _valid_path(name: str) -> bool:
    """A prefix rewrite would write into references: 2 to 30 characters (ECR's limits on
    ecrRepositoryPrefix) that the reference grammar accepts as path components."""
    if not 2 <= len(name) <= 30:
        return False
    try:
        refs.parse_image(f"registry.invalid/{name}/x")
    except InvalidReferenceError:
        return False
    return True
