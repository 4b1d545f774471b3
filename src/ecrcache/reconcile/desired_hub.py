"""The desired state's hub and spoke parts (pure): what ``[hub]`` and ``[spoke]`` add to the
policies, and the part of a spoke's config its own account holds. See ``policy.hub``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ecrcache.config.hub_checks import spokes
from ecrcache.config.registry import TemplateConfig
from ecrcache.config.schema import Config
from ecrcache.config.upstreams import partition
from ecrcache.policy.canonical import canonical_text
from ecrcache.policy.hub import (
    hub_registry_statements,
    hub_repository_statements,
    merged_repository_policy,
    spoke_pull_policy,
)
from ecrcache.reconcile.changes import Unmanaged
from ecrcache.reconcile.resources import IamPolicy

SPOKE_NOTE = (
    "spoke of {hub} in {region}: [rules] describe the hub's rules, for routing only; this "
    "account gets no rules, templates or upstream secrets (the hub's config makes them)"
)


def local_view(config: Config) -> Config:
    """What of ``config`` this account holds: a spoke's rules and templates are the hub's (they
    route pulls), so its own account gets none of them, nor their secrets."""
    if config.spoke is None:
        return config
    return config.model_copy(update={"rules": {}, "templates": {}})


def hub_statements(
    config: Config, *, account_id: str, region: str, prefixes: list[str]
) -> list[dict[str, Any]]:
    """The hub's registry policy statements for its spokes (none unless ``[hub]``)."""
    who = spokes(config)
    if who is None:
        return []
    return hub_registry_statements(
        who,
        partition=partition(region),
        account_id=account_id,
        region=region,
        cache_prefixes=prefixes,
    )


def template_repository_policy(config: Config, t: TemplateConfig, part: str) -> str | None:
    """The template's repository policy in canonical form: a hub's pull-through cache templates
    add the spokes' pull statements to the user's own policy."""
    who = spokes(config)
    if who is None or "PULL_THROUGH_CACHE" not in t.applied_for:
        return canonical_text(t.repository_policy, partition=part) if t.repository_policy else None
    merged = merged_repository_policy(t.repository_policy, hub_repository_statements(who))
    return canonical_text(merged, partition=part)


def spoke_policies(config: Config) -> tuple[IamPolicy, ...]:
    """A spoke's pull policy: the managed policy its pullers attach (see ``spoke_pull_policy``)."""
    if config.spoke is None:
        return ()
    hub, hub_region = config.registry_of("", config.region)
    part = partition(hub_region)
    doc = spoke_pull_policy(
        partition=part,
        hub_account_id=hub,
        hub_region=hub_region,
        cache_prefixes=sorted(config.cache_prefixes),
    )
    return (IamPolicy(name=config.spoke.pull_policy, document=canonical_text(doc, partition=part)),)


def hub_notes(config: Config, unmanaged: Iterable[Unmanaged]) -> tuple[str, ...]:
    """What a hub's or a spoke's plan says besides its changes (none for other configs).

    A hub: whom its registry policy and templates let pull. A spoke: the rules and templates
    its own account holds are "not in the configuration" although [rules] may name the same
    prefixes: those name the hub's."""
    if config.spoke is not None:
        own = sorted(u.address for u in unmanaged if u.kind in ("rule", "template"))
        if not own:
            return ()
        return (
            f"{', '.join(own)}: this account's own, not the hub's: a spoke's [rules] and "
            "[templates] describe the hub's, so these count as not in the configuration here "
            "(pulls go through the hub)",
        )
    hub = config.hub
    if hub is None:
        return ()
    named = []
    if hub.spoke_accounts:
        named.append(_few("account", sorted(hub.spoke_accounts)))
    if hub.spoke_principals:
        named.append(_few("role", sorted(hub.spoke_principals)))
    if hub.organization_id:
        paths = hub.organizational_unit_paths
        named.append(
            f"the organization {hub.organization_id}"
            + (f" ({_few('path', sorted(paths))})" if paths else "")
        )
    ptc = sorted(p for p, t in config.templates.items() if "PULL_THROUGH_CACHE" in t.applied_for)
    note = (
        f"hub for {' and '.join(named)}: the registry policy lets them make first pulls under "
        f"{', '.join(sorted(config.cache_prefixes)) or 'no prefix yet'}"
    )
    if ptc:
        note += (
            f"; the creation template(s) {', '.join(ptc)} give the repositories a first pull "
            "creates a policy that lets them pull (repositories cached earlier keep theirs)"
        )
    return (note,)


def _few(what: str, names: list[str]) -> str:
    """``account 1``, ``accounts 1, 2, 3``, or ``7 accounts`` past three."""
    if len(names) > 3:
        return f"{len(names)} {what}s"
    return f"{what}{'s' if len(names) > 1 else ''} {', '.join(names)}"
