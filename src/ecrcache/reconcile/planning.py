"""Config + account → plan: the steps plan and apply share. I/O through Clients only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ecrcache.aws import Clients
from ecrcache.config.registry import CiPolicyConfig
from ecrcache.config.schema import Config
from ecrcache.errors import CredentialSourceError, WrongAccountError
from ecrcache.reconcile.backfill import BackfillScope, left_alone_notes
from ecrcache.reconcile.bounded import Progress, no_progress
from ecrcache.reconcile.changes import Plan, Safety
from ecrcache.reconcile.credentials import SecretValues, SourceReader, read_secret_values
from ecrcache.reconcile.desired import desired_state
from ecrcache.reconcile.desired_hub import SPOKE_NOTE, hub_notes, local_view
from ecrcache.reconcile.live import LiveScope, read_live
from ecrcache.reconcile.live_monitoring import MonitoringNames
from ecrcache.reconcile.live_secrets import LISTING_LAG_NOTE
from ecrcache.reconcile.ownership import foreign_notes, rule_is_ours
from ecrcache.reconcile.plan import diff
from ecrcache.reconcile.resources import MANAGED_BY_KEY, MANAGED_BY_VALUE, State

DEFAULT_CI_POLICY = CiPolicyConfig().name

# Secrets Manager's default key: ECR can only decrypt secrets under it.
DEFAULT_SECRET_KEYS = frozenset({None, "alias/aws/secretsmanager"})


@dataclass(frozen=True)
class PlanResult:
    """A plan with what it was made from, for rendering and for apply."""

    account_id: str
    region: str
    desired: State
    live: State
    plan: Plan
    safety: Safety
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # what the plan leaves alone on purpose, and why


def check_account(config: Config, account_id: str) -> None:
    """Refuse to plan against an account the config does not name (when it names one): the
    credentials are for the wrong account, exit 3 as for any credentials problem."""
    if config.account_id is not None and config.account_id != account_id:
        raise WrongAccountError(
            f"the config is for account {config.account_id}, "
            f"but the credentials are for account {account_id}",
            hint="use the right --profile, or change account_id in the config",
        )


def make_plan(
    config: Config,
    clients: Clients,
    *,
    reader: SourceReader,
    prune: bool = False,
    delete_images: bool = False,
    progress: Progress = no_progress,
) -> PlanResult:
    """Read secret values and live state, then diff. Raises when a secret the config only
    references does not exist; a new secret whose token source has no value now is planned
    with its value unknown (apply refuses it: ``apply.require_values``). ``progress`` hears of
    the per-repository reads (``bounded``)."""
    account_id = clients.account_id
    check_account(config, account_id)
    local = local_view(config)  # a spoke's rules are the hub's: no secrets to read for them
    values = read_secret_values(local, reader, sandbox=clients.sandbox)
    live = read_live(clients, live_scope(config, values, prune=prune), progress=progress)
    values = values.settled(frozenset(live.secrets))  # sandbox: placeholders only to create
    # A rule the config no longer declares stays in place without --prune, and with it when it
    # is not provably ecrcache's (ownership.py): it still serves pulls, so the policies keep
    # granting on its prefix.
    kept = frozenset(
        p
        for p, r in live.rules.items()
        if p not in local.cache_prefixes and not (prune and rule_is_ours(r, live.secrets))
    )
    desired = desired_state(
        config,
        values.values,
        account_id=account_id,
        region=clients.region,
        backfill_repositories=tuple(live.repository_settings),
        kept_rules=kept,
        unavailable=values.unavailable,
        kept_monitoring=kept_monitoring(config, live),
    )
    _require_creatable(desired, live, values)
    plan = diff(desired, live, prune=prune, delete_images=delete_images)
    s = config.safety
    return PlanResult(
        account_id=account_id,
        region=clients.region,
        desired=desired,
        live=live,
        plan=plan,
        safety=Safety(s.update_threshold, s.delete_threshold, s.min_existing),
        warnings=config.warnings() + _warnings(desired, live, values) + _listing(plan, prune),
        notes=_kept_rule_notes(local, kept, prune=prune)
        + _kept_monitoring_notes(config, live)
        + _backfill_notes(local, live)
        + _spoke_notes(config)
        + hub_notes(config, plan.unmanaged)
        + foreign_notes(
            (u for u in plan.unmanaged if not u.ours), prune=prune, sandbox=clients.sandbox
        ),
    )


def _listing(plan: Plan, prune: bool) -> tuple[str, ...]:
    """Where the plan relies on ListSecrets (secrets the config does not name), say it lags."""
    if prune or any(u.kind == "secret" for u in plan.unmanaged):
        return (f"secrets the config does not name were found by listing: {LISTING_LAG_NOTE}",)
    return ()


def live_scope(config: Config, values: SecretValues, *, prune: bool = False) -> LiveScope:
    """What of the account this config manages, so read_live reads no more than that.

    The CI policy is read under its configured name; without [ci_policy], only a prune looks for
    one under the default name (to delete it, if ecrcache made it).
    """
    if config.ci_policy is not None:
        iam_names = frozenset({config.ci_policy.name})
    else:
        iam_names = frozenset({DEFAULT_CI_POLICY}) if prune else frozenset()
    if config.spoke is not None:
        iam_names |= {config.spoke.pull_policy}
    config = local_view(config)
    return LiveScope(
        secret_names=frozenset(r.credentials.secret for r in config.rule_list if r.credentials),
        confirm_discovered=prune,
        digest_secrets=frozenset(n for n, v in values.values.items() if v is not None),
        app_repositories=frozenset(config.repositories),
        # Without ROOT: under a ROOT rule any name may be a cache name, and ecrcache's own
        # repositories (found by their tag) must still be found, as import finds them.
        cache_prefixes=config.cache_prefixes - {"ROOT"},
        backfill=BackfillScope.of(config),
        scanning=config.scanning is not None,
        registry_policy=config.pullers is not None or config.hub is not None,
        iam_policies=iam_names,
        # [monitoring]'s names; without the section only a prune looks, finding ecrcache's
        # rules by their tag (live_monitoring.discover_monitoring)
        monitoring=(
            MonitoringNames.of(config.monitoring, everything=prune)
            if config.monitoring is not None
            else None
        ),
        # ...and so does a plan for a CI policy: it keeps granting the prune on what is found
        discover_monitoring=config.monitoring is None and (prune or config.ci_policy is not None),
    )


def kept_monitoring(config: Config, live: State) -> tuple[str, ...]:
    """ecrcache's own [monitoring] rules in the account once the section is gone (found by their
    tag): the CI policy keeps granting on their names until a prune has deleted them, or the
    apply that removes the section would take away the permissions the prune needs."""
    if config.monitoring is not None:
        return ()
    return tuple(sorted(n for n, r in live.event_rules.items() if _tagged_ours(r)))


def _tagged_ours(obj: Any) -> bool:
    return dict(obj.tags).get(MANAGED_BY_KEY) == MANAGED_BY_VALUE


def _kept_monitoring_notes(config: Config, live: State) -> tuple[str, ...]:
    names = kept_monitoring(config, live)
    if not names or config.ci_policy is None:
        return ()
    return (
        f"[monitoring] was removed but ecrcache's {', '.join(names)} remain: the CI policy keeps "
        "granting on them so that `apply --prune` may delete them; the apply after that drops "
        "those grants",
    )


def _kept_rule_notes(config: Config, kept: frozenset[str], *, prune: bool) -> tuple[str, ...]:
    policies = [
        name
        for name, present in (
            ("registry policy", config.spoke is None and (config.pullers or config.hub)),
            ("CI policy", config.ci_policy is not None),
        )
        if present
    ]
    if not kept or not policies:
        return ()
    rules = ", ".join(f"rule.{p}" for p in sorted(kept))
    its = "its prefix" if len(kept) == 1 else "their prefixes"
    why = "not provably ecrcache's" if prune else "no --prune"
    return (
        f"{rules}: not in the configuration but left in place ({why}), so the "
        f"{' and the '.join(policies)} keep{'s' if len(policies) == 1 else ''} granting on {its}",
    )


def _spoke_notes(config: Config) -> tuple[str, ...]:
    if config.spoke is None:
        return ()
    hub, region = config.registry_of("", config.region)
    return (
        SPOKE_NOTE.format(hub=hub, region=region),
        f"attach the IAM policy {config.spoke.pull_policy} to this account's pullers (node "
        "roles): it lets them pull and make first pulls through the hub",
    )


def _backfill_notes(config: Config, live: State) -> tuple[str, ...]:
    scope = BackfillScope.of(config)
    if not scope.active:
        return ()
    return left_alone_notes(
        scope.left_alone(live.all_repositories, managed=frozenset(live.repositories))
    )


def _require_creatable(desired: State, live: State, values: SecretValues) -> None:
    for name, want in desired.secrets.items():
        if want.value is not None or name in live.secrets or name in values.unavailable:
            continue  # one with a token source and no value now is planned "known after apply"
        raise CredentialSourceError(
            f"secret {name} does not exist, and the config gives no token to create it",
            hint='create it in Secrets Manager, or add token = { env = "..." } to its credentials',
        )


def _warnings(desired: State, live: State, values: SecretValues) -> tuple[str, ...]:
    out: list[str] = []
    for name, why in sorted(values.unavailable.items()):
        if name in live.secrets:
            out.append(f"secret {name}: value not checked ({why}); it is left as it is")
        else:
            out.append(
                f"secret {name}: value known after apply ({why}); apply needs it to create "
                "the secret"
            )
    for name in values.placeholders:
        out.append(f"sandbox: secret {name} gets a placeholder value (its token source is not set)")
    for name in desired.secrets:
        have = live.secrets.get(name)
        if have is not None and have.kms_key_id not in DEFAULT_SECRET_KEYS:
            out.append(
                f"secret {name} is encrypted with {have.kms_key_id}: ECR can only read secrets "
                "under the default aws/secretsmanager key"
            )
    return tuple(out)
