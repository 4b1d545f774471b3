"""``import`` of a hub account: ``[hub]`` back from ecrcache's spoke statements (pure).

The inverse of ``policy.hub``: the registry policy's ``ecrcache-hub-spokes`` statement names the
spokes (ECR stores an account ID as its root ARN), ``ecrcache-hub-organization`` the
organization (``aws:PrincipalOrgID``) and its paths (``aws:PrincipalOrgPaths``). The spokes'
pull statements that the hub's pull-through templates carry (``ecrcache-hub-pull*``) come back
from ``[hub]`` on apply, so the imported templates' repository policies leave them out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from ecrcache.config.hub_checks import spokes
from ecrcache.config.loading import parse_config
from ecrcache.config.upstreams import partition
from ecrcache.inputfile import loads_json
from ecrcache.policy.canonical import canonical_statement_text
from ecrcache.policy.hub import (
    HUB_ORG_SID,
    HUB_PULL_ORG_SID,
    HUB_PULL_SID,
    HUB_SPOKES_SID,
    hub_registry_statements,
)

HUB_REGISTRY_SIDS = frozenset({HUB_SPOKES_SID, HUB_ORG_SID})
HUB_REPOSITORY_SIDS = frozenset({HUB_PULL_SID, HUB_PULL_ORG_SID})


def is_hub_statement(text: str) -> bool:
    """Whether a registry policy statement (JSON text) is one of the hub's for its spokes."""
    st = json.loads(text)
    return isinstance(st, dict) and st.get("Sid") in HUB_REGISTRY_SIDS


def hub_section(
    statements: Sequence[str], *, account_id: str, region: str, prefixes: Sequence[str]
) -> tuple[dict[str, Any] | None, list[str]]:
    """``[hub]`` from the registry policy's statements (ecrcache's, canonical JSON text), and
    notes on what it could not carry over. None when there are no hub statements."""
    section: dict[str, Any] = {}
    notes: list[str] = []
    root = re.compile(rf"arn:{re.escape(partition(region))}:iam::(\d{{12}}):root")
    role = re.compile(rf"arn:{re.escape(partition(region))}:iam::\d{{12}}:role/.+")
    for text in statements:
        st = json.loads(text)
        if st.get("Sid") == HUB_SPOKES_SID:
            aws = (st.get("Principal") or {}).get("AWS", [])
            accounts, principals = [], []
            for p in [aws] if isinstance(aws, str) else aws:
                if (m := root.fullmatch(p)) is not None:
                    accounts.append(m[1])
                elif role.fullmatch(p):
                    principals.append(p)
                else:
                    notes.append(f"hub: {p} is neither an account nor a role: not imported")
            if accounts:
                section["spoke_accounts"] = sorted(accounts)
            if principals:
                section["spoke_principals"] = sorted(principals)
        elif st.get("Sid") == HUB_ORG_SID:
            cond = st.get("Condition") or {}
            org = _one((cond.get("StringEquals") or {}).get("aws:PrincipalOrgID"))
            if org is not None:
                section["organization_id"] = org
            paths = (cond.get("ForAnyValue:StringLike") or {}).get("aws:PrincipalOrgPaths")
            if paths:
                section["organizational_unit_paths"] = sorted(
                    [paths] if isinstance(paths, str) else paths
                )
    if not section:
        return None, notes
    hub = parse_config({"region": region, "hub": section}, filename="imported config")
    who = spokes(hub)
    assert who is not None
    part = partition(region)
    wanted = hub_registry_statements(
        who, partition=part, account_id=account_id, region=region, cache_prefixes=prefixes
    )
    have = sorted(s for s in statements if is_hub_statement(s))
    if sorted(canonical_statement_text(s, partition=part) for s in wanted) != have:
        notes.append(
            "hub: ecrcache's spoke statements in the registry policy differ from what these "
            "rules and spokes give; apply will rewrite them"
        )
    return section, notes


def without_spoke_pull(policy: str) -> str | None:
    """A hub template's repository policy without the spokes' pull statements (``[hub]``
    adds them back); None when nothing else is left."""
    doc = loads_json(policy)
    if not isinstance(doc, dict):
        return policy
    st = doc.get("Statement", [])
    statements = [st] if isinstance(st, dict) else list(st)
    kept = [
        s for s in statements if not (isinstance(s, dict) and s.get("Sid") in HUB_REPOSITORY_SIDS)
    ]
    if len(kept) == len(statements):
        return policy
    if not kept:
        return None
    return json.dumps({**doc, "Statement": kept}, sort_keys=True)


def _one(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
        return value[0]
    return None
