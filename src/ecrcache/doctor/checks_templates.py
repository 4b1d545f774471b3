"""Checks of repository creation templates: coverage, custom role, tag immutability (§3, §8)."""

from __future__ import annotations

from typing import Any

from ecrcache.doctor.env import Env
from ecrcache.doctor.fixes import compact_json, toml_key
from ecrcache.doctor.model import (
    ECR_GATE,
    Finding,
    Fix,
    Need,
    Severity,
    check,
    passed,
    problem,
    skipped,
)
from ecrcache.reconcile.resources import Template

PTC = "PULL_THROUGH_CACHE"
TEMPLATE_ROLE = "ecr-template-role"
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-creation-templates-create-iam.html
TRUST_ECR = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ecr.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
# .../repository-creation-templates-custom.html
TEMPLATE_ROLE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["ecr:CreateRepository", "ecr:ReplicateImage", "ecr:TagResource"],
            "Resource": "*",
        },
        {
            "Effect": "Allow",
            "Action": ["kms:CreateGrant", "kms:RetireGrant", "kms:DescribeKey"],
            "Resource": "*",
        },
    ],
}
ROOT_TEMPLATE = (
    "[templates.ROOT]\n"
    'description = "Every cached repository: keep storage bounded"\n'
    "[templates.ROOT.lifecycle]\n"
    "expire_untagged_after_days = 7\n"
    "keep_last = 30"
)


def _cache_prefixes(env: Env) -> list[str]:
    prefixes = {r.prefix for r in env.live.rules}
    if env.config is not None:
        prefixes |= set(env.config.rules)
    return sorted(prefixes)


def _ptc_templates(env: Env) -> dict[str, Template]:
    return {t.prefix: t for t in env.live.templates if PTC in t.applied_for}


def covering(templates: dict[str, Template], prefix: str) -> Template | None:
    """The template ECR applies to repositories a rule with ``prefix`` creates."""
    return templates.get(prefix) or templates.get("ROOT")


@check(
    "template.coverage",
    "A creation template for every cache prefix",
    Severity.WARNING,
    why="repositories a pull creates get their lifecycle policy only from a template; without "
    "one they grow for ever (templates do not change existing repositories)",
    needs=(Need.AWS,),
    after=ECR_GATE,
)
def template_coverage(env: Env) -> Finding:
    prefixes = _cache_prefixes(env)
    if not prefixes:
        return skipped("no cache prefixes")
    templates = _ptc_templates(env)
    bare = [p for p in prefixes if covering(templates, p) is None]
    no_lifecycle = [
        p for p in prefixes if (t := covering(templates, p)) and t.lifecycle_policy is None
    ]
    if not bare and not no_lifecycle:
        used = sorted({covering(templates, p).prefix for p in prefixes})  # type: ignore[union-attr]
        return passed(f"{len(prefixes)} cache prefix(es) covered by template(s) {', '.join(used)}")
    text = "; ".join(
        ([f"no template for {', '.join(bare)}"] if bare else [])
        + ([f"template without lifecycle for {', '.join(no_lifecycle)}"] if no_lifecycle else [])
    )
    return problem(text, _coverage_fix(env, bare + no_lifecycle))


def _coverage_fix(env: Env, prefixes: list[str]) -> Fix:
    config = env.config
    declared = config.templates if config is not None else {}

    def config_covers(p: str) -> bool:
        t = declared.get(p) or declared.get("ROOT")
        return t is not None and PTC in t.applied_for and t.lifecycle is not None

    if all(config_covers(p) for p in prefixes):
        return Fix("the config declares the template(s): create them", (env.commands.apply(),))
    root = declared.get("ROOT")
    if root is not None and root.lifecycle is None:
        snippet = "[templates.ROOT.lifecycle]\nexpire_untagged_after_days = 7\nkeep_last = 30"
    else:
        snippet = ROOT_TEMPLATE
    return Fix(
        "add a ROOT template with a lifecycle policy to the config (and backfill = true to "
        "also set it on repositories created before), then apply",
        (env.commands.apply(),),
        config=snippet,
    )


def _role_problem(env: Env, arn: str) -> str | None:
    """Why the template's role cannot serve ECR, or None."""
    from ecrcache.aws import aws_errors, error_code

    name = arn.rsplit("/", 1)[-1]
    try:
        role = env.live.clients.iam.get_role(RoleName=name)["Role"]
    except Exception as exc:
        if error_code(exc) == "NoSuchEntity":
            return f"role {name} does not exist"
        with aws_errors(f"read role {name}"):
            raise
    trust: Any = role.get("AssumeRolePolicyDocument") or {}
    if isinstance(trust, str):
        import json
        from urllib.parse import unquote

        trust = json.loads(unquote(trust))
    if not _trusts(trust, "ecr.amazonaws.com"):
        return f"role {name} does not trust ecr.amazonaws.com"
    return None


def _trusts(doc: dict[str, Any], service: str) -> bool:
    statements = doc.get("Statement", [])
    for st in statements if isinstance(statements, list) else [statements]:
        services = (st.get("Principal") or {}).get("Service", [])
        services = [services] if isinstance(services, str) else services
        if st.get("Effect") == "Allow" and service in services:
            return True
    return False


@check(
    "template.role",
    "Templates with tags or KMS have a working custom role",
    Severity.ERROR,
    why="ECR's service-linked role can only create repositories: a template with resource "
    "tags or a KMS key and no custom role makes pulls through it fail",
    needs=(Need.AWS,),
    after=ECR_GATE,
)
def template_role(env: Env) -> Finding:
    needing = [
        t for t in _ptc_templates(env).values() if t.resource_tags or t.encryption != "AES256"
    ]
    if not needing:
        return passed("no pull-through cache template uses resource tags or KMS")
    bad: list[str] = []
    fixes: list[Fix] = []
    role_arn = f"arn:aws:iam::{env.live.account_id}:role/{TEMPLATE_ROLE}"
    for t in sorted(needing, key=lambda t: t.prefix):
        what = "resource tags" if t.resource_tags else "a KMS key"
        if t.role_arn is None:
            bad.append(f"{t.prefix}: {what} but no custom role")
            fixes.append(_role_fix(env, t.prefix, role_arn, create=True))
        elif (why := _role_problem(env, t.role_arn)) is not None:
            bad.append(f"{t.prefix}: {why}")
            fixes.append(_role_fix(env, t.prefix, t.role_arn, create="does not exist" in why))
    if not bad:
        return passed(f"{len(needing)} template(s) with tags or KMS have a role ECR can assume")
    return problem(
        "; ".join(bad),
        Fix(
            "; ".join(dict.fromkeys(f.summary for f in fixes)),
            tuple(dict.fromkeys(c for f in fixes for c in f.commands)),
            config="\n\n".join(dict.fromkeys(f.config for f in fixes if f.config)) or None,
        ),
    )


def _role_fix(env: Env, prefix: str, arn: str, *, create: bool) -> Fix:
    name = arn.rsplit("/", 1)[-1]
    c = env.commands
    trust = compact_json(TRUST_ECR)
    steps = (
        [
            c.aws_global(
                "iam", "create-role", "--role-name", name, "--assume-role-policy-document", trust
            ),
            c.aws_global(
                "iam",
                "put-role-policy",
                "--role-name",
                name,
                "--policy-name",
                "ecr-repository-creation",
                "--policy-document",
                compact_json(TEMPLATE_ROLE_POLICY),
            ),
        ]
        if create
        else [
            c.aws_global(
                "iam", "update-assume-role-policy", "--role-name", name, "--policy-document", trust
            )
        ]
    )
    declared = env.config is not None and prefix in env.config.templates
    has_role = declared and env.config.templates[prefix].role_arn == arn  # type: ignore[union-attr]
    snippet = None
    if declared and not has_role:
        snippet = f'[templates.{toml_key(prefix)}]\nrole_arn = "{arn}"'
        steps.append(c.apply())
    elif not declared:
        steps.append(
            c.aws(
                "ecr",
                "update-repository-creation-template",
                "--prefix",
                prefix,
                "--custom-role-arn",
                arn,
            )
        )
    return Fix(
        f"give template {prefix} role {name}, trusted by ecr.amazonaws.com", tuple(steps), snippet
    )


@check(
    "template.immutability",
    "No tag immutability on cache repositories",
    Severity.WARNING,
    why="immutable tags stop ECR refreshing a cached tag (e.g. latest) from the upstream",
    needs=(Need.AWS,),
    after=ECR_GATE,
)
def template_immutability(env: Env) -> Finding:
    prefixes = _cache_prefixes(env)
    templates = _ptc_templates(env)
    bad_templates = sorted(
        {
            t.prefix
            for p in prefixes
            if (t := covering(templates, p)) and t.tag_mutability.startswith("IMMUTABLE")
        }
    )
    repos = sorted(
        name
        for name, r in env.live.repositories.items()
        if str(r.get("imageTagMutability", "MUTABLE")).startswith("IMMUTABLE")
        and _cached(name, prefixes)
        and not (env.config is not None and name in env.config.repositories)
    )
    if not bad_templates and not repos:
        return passed(f"{len(prefixes)} cache prefix(es): tags stay mutable")
    steps: list[str] = []
    snippets = []
    for prefix in bad_templates:
        if env.config is not None and prefix in env.config.templates:
            snippets.append(f'[templates.{toml_key(prefix)}]\ntag_mutability = "MUTABLE"')
        else:
            steps.append(
                env.commands.aws(
                    "ecr",
                    "update-repository-creation-template",
                    "--prefix",
                    prefix,
                    "--image-tag-mutability",
                    "MUTABLE",
                )
            )
    if snippets:
        steps.append(env.commands.apply())
    steps += [
        env.commands.aws(
            "ecr",
            "put-image-tag-mutability",
            "--repository-name",
            name,
            "--image-tag-mutability",
            "MUTABLE",
        )
        for name in repos
    ]
    text = "; ".join(
        ([f"immutable template(s): {', '.join(bad_templates)}"] if bad_templates else [])
        + ([f"{len(repos)} immutable cache repositor(ies)"] if repos else [])
    )
    return problem(
        text,
        Fix("make cache tags mutable", tuple(steps), "\n\n".join(snippets) or None),
        *(f"repository {r}" for r in repos),
    )


def _cached(name: str, prefixes: list[str]) -> bool:
    return "ROOT" in prefixes or any(name.startswith(p + "/") for p in prefixes)


CHECKS = (template_coverage, template_role, template_immutability)
