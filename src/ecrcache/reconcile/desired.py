"""Config → desired State. Pure: secret values arrive already read (see credentials.py)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from ecrcache.config.registry import RepositoryConfig, ScanningConfig, TemplateConfig
from ecrcache.config.schema import Config
from ecrcache.config.upstreams import partition
from ecrcache.policy.canonical import canonical_statement_text, canonical_text
from ecrcache.policy.policies import puller_statements
from ecrcache.reconcile.backfill import BackfillScope
from ecrcache.reconcile.desired_hub import (
    hub_statements,
    local_view,
    spoke_policies,
    template_repository_policy,
)
from ecrcache.reconcile.desired_monitoring import monitoring_resources
from ecrcache.reconcile.ownership import marked_description
from ecrcache.reconcile.resources import (
    MANAGED_TAGS,
    IamPolicy,
    RegistryPolicy,
    Repository,
    RepositorySettings,
    Rule,
    Scanning,
    ScanRule,
    Secret,
    SecretValue,
    State,
    Tags,
    Template,
)


def secret_json(username: str, token: str) -> str:
    """The secret body ECR's pull-through cache reads: keys ``username`` and ``accessToken``."""
    return json.dumps({"username": username, "accessToken": token}, separators=(",", ":"))


def desired_state(
    config: Config,
    values: Mapping[str, SecretValue | None],
    *,
    account_id: str,
    region: str,
    backfill_repositories: Iterable[str] = (),
    kept_rules: Iterable[str] = (),
    unavailable: Mapping[str, str] | None = None,
    kept_monitoring: Iterable[str] = (),
) -> State:
    """The state the config asks for.

    ``values`` maps each managed secret's name to its value (None: not available now, so the
    value is left alone, or a new secret's value is unknown); ``unavailable`` says why, by
    name. Secrets the config only references carry no tags and no value.
    ``backfill_repositories``: the live repositories read_live found backfill may reach (its
    ``repository_settings``); each gets its template's settings (see backfill.py).
    ``kept_rules``: prefixes of live rules the config no longer declares that the apply leaves
    in place (no --prune); the registry and CI policies keep covering them, so pulls through a
    rule that still exists keep working.
    A spoke's rules route pulls to the hub: its own account gets none, nor their templates and
    secrets (``local_view``), and its pullers get the hub pull policy.
    ``kept_monitoring``: names of ecrcache's [monitoring]
    rules still in the account after the section was removed; the CI policy keeps granting on
    them until they are gone, so the prune that deletes them is allowed to.
    """
    routing, config = config, local_view(config)
    policy_prefixes = sorted(config.cache_prefixes | frozenset(kept_rules))
    secrets: dict[str, Secret] = {}
    rules: list[Rule] = []
    for rule in config.rule_list:
        cred = rule.credentials
        if cred is not None and cred.secret not in secrets:
            if cred.managed:
                secrets[cred.secret] = Secret(
                    cred.secret,
                    value=values.get(cred.secret),
                    tags=MANAGED_TAGS,
                    unavailable=(unavailable or {}).get(cred.secret),
                )
            else:
                secrets[cred.secret] = Secret(cred.secret)
        rules.append(
            Rule(
                prefix=rule.prefix,
                upstream=rule.upstream,
                url=rule.resolved_url,
                upstream_prefix=rule.upstream_prefix or "ROOT",
                credential=cred.secret if cred is not None else None,
                role_arn=rule.role_arn,
            )
        )
    templates = tuple(
        _template(t, partition(region), template_repository_policy(config, t, partition(region)))
        for t in config.templates.values()
    )
    return State.of(
        secrets=tuple(secrets.values()),
        rules=tuple(rules),
        templates=templates,
        repositories=tuple(_repository(r) for r in config.repositories.values()),
        repository_settings=_backfill(config, templates, backfill_repositories),
        scanning=_scanning(config.scanning) if config.scanning is not None else None,
        registry_policy=_registry_policy(config, account_id, region, policy_prefixes),
        iam_policies=_ci_policy(
            routing, account_id, region, policy_prefixes, sorted(kept_monitoring)
        )
        + spoke_policies(routing),
        monitoring=(
            monitoring_resources(config.monitoring, region=region, account_id=account_id)
            if config.monitoring is not None
            else ()
        ),
    )


def _tags(d: Mapping[str, str]) -> Tags:
    return tuple(sorted(d.items()))


def _template(t: TemplateConfig, part: str, repository_policy: str | None) -> Template:
    return Template(
        prefix=t.prefix,
        applied_for=tuple(sorted(t.applied_for)),
        description=marked_description(t.description),  # marks it ecrcache's (ownership.py)
        encryption=t.encryption,
        kms_key=t.kms_key,
        tag_mutability=t.tag_mutability,
        tag_mutability_exclusions=tuple(sorted(t.tag_mutability_exclusions)),
        resource_tags=_tags(t.tags),
        lifecycle_policy=t.lifecycle.document() if t.lifecycle is not None else None,
        repository_policy=repository_policy,
        role_arn=t.role_arn,
    )


def _repository(r: RepositoryConfig) -> Repository:
    return Repository(
        name=r.name,
        tag_mutability=r.tag_mutability,
        tag_mutability_exclusions=tuple(sorted(r.tag_mutability_exclusions)),
        scan_on_push=r.scan_on_push,
        encryption=r.encryption,
        kms_key=r.kms_key,
        tags=_tags({**r.tags, **dict(MANAGED_TAGS)}),
        lifecycle_policy=r.lifecycle.document() if r.lifecycle is not None else None,
    )


def _backfill(
    config: Config, templates: tuple[Template, ...], names: Iterable[str]
) -> tuple[RepositorySettings, ...]:
    """Each reached repository's template settings. The reach is decided once, by BackfillScope
    (never a declared application repository, only names a rule of this config could have
    created); it is checked again here so that no other name can get settings."""
    scope = BackfillScope.of(config)
    by_prefix = {t.prefix: t for t in templates}
    out = []
    for name in sorted(names):
        prefix = scope.reach(name)
        if prefix is None:
            continue
        t = by_prefix[prefix]
        out.append(
            RepositorySettings(
                name=name,
                lifecycle_policy=t.lifecycle_policy,
                tag_mutability=t.tag_mutability,
                tag_mutability_exclusions=t.tag_mutability_exclusions,
                template=prefix,
            )
        )
    return tuple(out)


def _scanning(s: ScanningConfig) -> Scanning:
    return Scanning(
        scan_type=s.type,
        rules=tuple(
            sorted(
                (ScanRule(r.frequency, tuple(sorted(r.filters))) for r in s.rules),
                key=lambda r: r.frequency,
            )
        ),
    )


def _registry_policy(
    config: Config, account_id: str, region: str, prefixes: list[str]
) -> RegistryPolicy | None:
    if (config.pullers is None and config.hub is None) or config.spoke is not None:
        return None  # a spoke's pullers pull from the hub: its pull policy grants them
    statements = puller_statements(
        partition=partition(region),
        account_id=account_id,
        region=region,
        principals=config.pullers.principals if config.pullers is not None else (),
        cache_prefixes=prefixes,
    ) + hub_statements(config, account_id=account_id, region=region, prefixes=prefixes)
    part = partition(region)
    return RegistryPolicy(
        statements=tuple(sorted(canonical_statement_text(st, partition=part) for st in statements))
    )


def _ci_policy(
    config: Config, account_id: str, region: str, prefixes: list[str], kept: list[str]
) -> tuple[IamPolicy, ...]:
    if config.ci_policy is None:
        return ()
    from ecrcache.config.ci_policy import ci_policy_for

    doc = ci_policy_for(
        config,
        account_id=account_id,
        region=region,
        cache_prefixes=prefixes,
        kept_monitoring=kept,
    )
    return (
        IamPolicy(
            name=config.ci_policy.name, document=canonical_text(doc, partition=partition(region))
        ),
    )
