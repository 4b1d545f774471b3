"""Live registry-wide settings and policies: scanning, the registry policy, CI IAM policies.

Reads only. ecrcache's registry policy statements (Sid prefix ``ecrcache-``) are read in
canonical form, everybody else's exactly as stored.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from ecrcache.aws import Clients, aws_errors, error_code
from ecrcache.config.upstreams import partition
from ecrcache.policy.canonical import canonical_statement_text, canonical_text
from ecrcache.reconcile.resources import IamPolicy, RegistryPolicy, Scanning, ScanRule

OUR_SID_PREFIX = "ecrcache-"


def read_scanning(clients: Clients) -> Scanning:
    with aws_errors("read the registry scanning configuration"):
        cfg = clients.ecr.get_registry_scanning_configuration().get("scanningConfiguration", {})
    rules = tuple(
        sorted(
            (
                ScanRule(
                    r["scanFrequency"],
                    tuple(sorted(f["filter"] for f in r.get("repositoryFilters", []))),
                )
                for r in cfg.get("rules", [])
            ),
            key=lambda r: r.frequency,
        )
    )
    return Scanning(scan_type=cfg.get("scanType", "BASIC"), rules=rules)


def read_registry_policy(clients: Clients) -> RegistryPolicy | None:
    try:
        text = clients.ecr.get_registry_policy()["policyText"]
    except Exception as exc:
        if error_code(exc) == "RegistryPolicyNotFoundException":
            return None
        with aws_errors("read the registry permissions policy"):
            raise
    statements = json.loads(text).get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    # Ours are compared in canonical form; everybody else's are kept exactly as read (key order
    # too), since apply writes them back and must not change what ecrcache does not own.
    part = partition(clients.region)
    ours = sorted(canonical_statement_text(st, partition=part) for st in statements if is_ours(st))
    others = tuple(json.dumps(st) for st in statements if not is_ours(st))
    return RegistryPolicy(statements=tuple(ours), others=others)


def is_ours(statement: dict[str, Any]) -> bool:
    return str(statement.get("Sid", "")).startswith(OUR_SID_PREFIX)


def read_iam_policies(clients: Clients, names: frozenset[str]) -> tuple[IamPolicy, ...]:
    """The named customer-managed policies, with their default version's document."""
    if not names:
        return ()
    out = []
    account = clients.account_id
    with aws_errors("read the CI IAM policy"):
        for name in sorted(names):
            arn = f"arn:{partition(clients.region)}:iam::{account}:policy/{name}"
            try:
                pol = clients.iam.get_policy(PolicyArn=arn)["Policy"]
            except Exception as exc:
                if error_code(exc) == "NoSuchEntity":
                    continue
                raise
            version = pol["DefaultVersionId"]
            doc = clients.iam.get_policy_version(PolicyArn=arn, VersionId=version)
            # IAM returns the document URL-encoded; botocore decodes it into a dict
            # (handlers.json_decode_policies), so only a str is still encoded.
            raw = doc["PolicyVersion"]["Document"]
            text = unquote(raw) if isinstance(raw, str) else json.dumps(raw)
            versions = clients.iam.list_policy_versions(PolicyArn=arn)["Versions"]
            others = tuple(
                v["VersionId"]
                for v in sorted(versions, key=lambda v: v["CreateDate"])
                if not v["IsDefaultVersion"]
            )
            out.append(
                IamPolicy(
                    name=name,
                    document=canonical_text(text, partition=partition(clients.region)),
                    tags=tuple(sorted((t["Key"], t["Value"]) for t in pol.get("Tags", []))),
                    arn=arn,
                    default_version=version,
                    versions=others,
                )
            )
    return tuple(out)
