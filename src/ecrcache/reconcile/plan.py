"""The diff between desired and live state, as a sorted tuple of small Change values. Pure.

Secrets and rules have their own diffs; the other kinds share one generic diff, told by a small
:class:`KindSpec` what each allows. The change types and :class:`Plan` live in ``changes``,
re-exported here for the many callers that import them with ``diff``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields
from typing import Any

from ecrcache.reconcile.changes import (
    Action,
    Change,
    FieldChange,
    Plan,
    Safety,
    Unknown,
    Unmanaged,
)
from ecrcache.reconcile.ownership import rule_is_ours, template_is_ours
from ecrcache.reconcile.resources import (
    RULE_FIELDS,
    RULE_UPDATABLE,
    Rule,
    Secret,
    State,
)

__all__ = [
    "KIND_SPECS",
    "Action",
    "Change",
    "KindSpec",
    "Plan",
    "Safety",
    "Unknown",
    "diff",
]


def diff(desired: State, live: State, *, prune: bool = False, delete_images: bool = False) -> Plan:
    """Compare ``desired`` with ``live``; return the plan that makes live match.

    What the config does not declare is reported as unmanaged; with ``prune`` it becomes a
    delete only where it is provably ecrcache's (ownership.py): secrets, repositories, IAM
    policies and [monitoring]'s resources by ecrcache's managed-by tag, templates by ecrcache's
    marker in their description, rules by the managed-by tag of the secret they hold. The
    others are reported (``Unmanaged.ours`` False) and never deleted. A repository that still
    holds images is deleted only with ``delete_images`` as well.
    """
    changes: list[Change] = []
    unmanaged: list[Unmanaged] = []
    problems: list[str] = []

    # The base for thresholds: every live resource this plan could touch.
    existing = len(live.rules) + sum(
        1 for n, s in live.secrets.items() if n in desired.secrets or s.managed
    )
    for name, want in desired.secrets.items():
        changes.extend(_diff_secret(want, live.secrets.get(name), problems))
    for name, have in live.secrets.items():
        if name in desired.secrets or have.pending_deletion:
            continue
        if have.managed and prune:
            changes.append(Change("secret", name, Action.DELETE, before=have))
        elif have.managed:
            unmanaged.append(Unmanaged("secret", name))

    for prefix, want_rule in desired.rules.items():
        changes.extend(_diff_rule(want_rule, live.rules.get(prefix), desired, live))
    for prefix, have_rule in live.rules.items():
        if prefix in desired.rules:
            continue
        ours = rule_is_ours(have_rule, live.secrets)
        if prune and ours:
            changes.append(
                Change(
                    "rule",
                    prefix,
                    Action.DELETE,
                    fields=tuple(
                        FieldChange(n, getattr(have_rule, n), None)
                        for n in RULE_FIELDS
                        if getattr(have_rule, n) is not None
                    ),
                    before=have_rule,
                    reason="not in the config (--prune)",
                    needs_force=True,
                )
            )
        else:
            unmanaged.append(Unmanaged("rule", prefix, ours=ours))

    # Application repositories, declared or ecrcache's own left alone: backfill never reaches
    # them, so no repository is both "left alone" and changed in one plan.
    applications = frozenset(desired.repositories) | frozenset(live.repositories)
    for spec in KIND_SPECS:
        want_map = getattr(desired, spec.attr)
        have_map = getattr(live, spec.attr)
        existing += len(have_map) if spec.counts_existing else 0
        for key, want_obj in want_map.items():
            if spec.attr == "repository_settings" and key in applications:
                continue
            changes.extend(_diff_generic(spec, want_obj, have_map.get(key), problems))
        for key, have_obj in have_map.items():
            if key in want_map:
                continue
            if not spec.owned(have_obj):
                if spec.report_foreign:  # shown as somebody else's, never deleted
                    unmanaged.append(Unmanaged(spec.kind, key, ours=False))
                continue
            if not prune:
                unmanaged.append(Unmanaged(spec.kind, key))
                continue
            count = getattr(have_obj, "image_count", 0)
            if count and not delete_images:
                problems.append(
                    f"{spec.kind}.{key} holds {count} image(s): pass --delete-images as well "
                    "to delete it with them"
                )
                continue
            changes.append(
                Change(
                    spec.kind,
                    key,
                    Action.DELETE,
                    before=have_obj,
                    reason="not in the config (--prune)",
                    needs_force=spec.delete_needs_force,
                )
            )

    return Plan(
        changes=tuple(sorted(changes)),
        unmanaged=tuple(sorted(unmanaged, key=lambda u: u.address)),
        existing=existing,
        problems=tuple(problems),
    )


def _diff_secret(want: Secret, have: Secret | None, problems: list[str]) -> Iterable[Change]:
    if have is None:
        value: Any = want.value
        if value is None and want.managed:
            # The config gives a token source with no value now (a pull request's job without
            # the token): planned as Terraform plans what it cannot know yet; apply refuses it
            # unless it has the value by then.
            value = Unknown(missing=want.unavailable or "its token source gave no value")
        elif value is None:
            # Referenced only: nothing apply could create it from.
            problems.append(
                f"secret {want.name} does not exist and the config gives no token to create it"
            )
            return
        fields = [FieldChange("value", None, value, sensitive=True)]
        if want.tags:
            fields.append(FieldChange("tags", None, dict(want.tags)))
        yield Change("secret", want.name, Action.CREATE, tuple(fields), after=want)
        return
    fields = []
    if have.pending_deletion:
        fields.append(FieldChange("pending_deletion", True, False))
    if want.value is not None and want.value != have.value:
        fields.append(FieldChange("value", have.value, want.value, sensitive=True))
    if want.tags is not None:
        merged = {**dict(have.tags or ()), **dict(want.tags)}
        if merged != dict(have.tags or ()):
            fields.append(FieldChange("tags", dict(have.tags or ()), merged))
    if fields:
        yield Change("secret", want.name, Action.UPDATE, tuple(fields), before=have, after=want)


def _diff_rule(
    want: Rule, have: Rule | None, desired: State = State(), live: State = State()
) -> Iterable[Change]:
    if have is None:
        fields = tuple(
            FieldChange(n, None, getattr(want, n))
            for n in RULE_FIELDS
            if getattr(want, n) is not None
            and not (n == "upstream_prefix" and want.upstream_prefix_is_default)
        )
        yield Change("rule", want.prefix, Action.CREATE, fields, after=want)
        return
    changed = tuple(
        FieldChange(n, getattr(have, n), getattr(want, n))
        for n in RULE_FIELDS
        if getattr(have, n) != getattr(want, n)
    )
    stale = _stale_credential_arn(want, have, desired, live)
    if not changed and stale is None:
        return
    fixed = [f.name for f in changed if f.name not in RULE_UPDATABLE]
    # UpdatePullThroughCacheRule cannot clear an ARN: going back to none needs a new rule.
    cleared = [f.name for f in changed if f.name in RULE_UPDATABLE and f.after is None]
    if fixed or cleared:
        names = ", ".join(fixed + cleared)
        why = "cannot be updated in place" if fixed else "cannot be removed in place"
        yield Change(
            "rule",
            want.prefix,
            Action.REPLACE,
            changed,
            before=have,
            after=want,
            reason=f"{names} {why}",
            needs_force=True,
        )
        return
    if stale is not None:  # the update sends the live ARN: show it, and why
        field_change, why = stale
        yield Change(
            "rule",
            want.prefix,
            Action.UPDATE,
            (*changed, field_change),
            before=have,
            after=want,
            reason=why,
        )
        return
    yield Change("rule", want.prefix, Action.UPDATE, changed, before=have, after=want)


def _stale_credential_arn(
    want: Rule, have: Rule, desired: State, live: State
) -> tuple[FieldChange, str] | None:
    """The rule keeps its secret's name but holds the ARN of a secret that is gone: the secret
    was deleted and re-created (Secrets Manager gives every new secret a new random ARN suffix),
    so ECR cannot read it and every upstream fetch fails. UpdatePullThroughCacheRule fixes it."""
    if want.credential is None or want.credential != have.credential or not have.credential_arn:
        return None
    secret = live.secrets.get(want.credential)
    if secret is not None and secret.arn:
        if secret.arn == have.credential_arn:
            return None
        old, new = _arn_suffix(have.credential_arn), _arn_suffix(secret.arn)
        return (
            FieldChange("credential_arn", have.credential_arn, secret.arn),
            f"the secret was re-created: its ARN suffix is now {new}, the rule holds {old}",
        )
    wanted = desired.secrets.get(want.credential)
    if secret is None and wanted is not None and (wanted.value is not None or wanted.managed):
        return (
            FieldChange("credential_arn", have.credential_arn, Unknown()),
            "the secret was deleted: apply re-creates it and points the rule at its new ARN",
        )
    return None  # missing and not creatable: reported as a problem with the secret


def _arn_suffix(arn: str) -> str:
    return arn.rsplit("-", 1)[-1] if "-" in arn else arn


# --- the other kinds: one generic diff, told by a small spec what each kind allows ----------


def _tagged_ours(obj: Any) -> bool:
    return dict(obj.tags).get("managed-by") == "ecrcache"


@dataclass(frozen=True)
class KindSpec:
    kind: str
    attr: str  # the State field holding this kind
    key_field: str
    fixed: frozenset[str] = frozenset()  # cannot change after creation: a problem, not a replace
    owned: Callable[[Any], bool] = lambda obj: True  # may prune delete it?
    report_foreign: bool = False  # list what is not owned as unmanaged (else not at all)
    delete_needs_force: bool = False
    counts_existing: bool = True
    always_exists: bool = False  # a registry singleton: a missing live one is an update
    empty_is_absent: bool = False  # wanted with nothing in it, and absent: nothing to do


KIND_SPECS: tuple[KindSpec, ...] = (
    KindSpec(
        "iam-policy",
        "iam_policies",
        "name",
        owned=lambda p: dict(p.tags).get("managed-by") == "ecrcache",
        delete_needs_force=True,
    ),
    # ecrcache's marker in the description (ownership.py); others' templates are only shown
    KindSpec(
        "template",
        "templates",
        "prefix",
        owned=lambda t: template_is_ours(t.description),
        report_foreign=True,
    ),
    KindSpec(
        "repository",
        "repositories",
        "name",
        fixed=frozenset({"encryption", "kms_key"}),
        owned=lambda r: r.managed,
        delete_needs_force=True,
    ),
    KindSpec(
        "repository-settings",
        "repository_settings",
        "name",
        owned=lambda r: False,  # backfill never deletes anything
        always_exists=True,
    ),
    KindSpec("scanning", "scanning", "key", owned=lambda s: False, always_exists=True),
    KindSpec(
        "registry-policy",
        "registry_policy",
        "key",
        owned=lambda s: False,
        counts_existing=False,
        empty_is_absent=True,  # `principals = []` after its statements were deleted
    ),
    # [monitoring]: ecrcache's own (tagged managed-by) are pruned only with --prune; the logs
    # resource policy cannot be tagged and is read only under ecrcache's name for it
    *(
        KindSpec(kind, attr, "name", owned=_tagged_ours, counts_existing=False)
        for kind, attr in (
            ("sns-topic", "topics"),
            ("log-group", "log_groups"),
            ("event-rule", "event_rules"),
            ("budget", "budgets"),
        )
    ),
    KindSpec("logs-policy", "logs_policies", "name", counts_existing=False),
)


def _compared_fields(obj: Any, key_field: str) -> tuple[str, ...]:
    return tuple(f.name for f in fields(obj) if f.compare and f.name != key_field)


def _diff_generic(
    spec: KindSpec, want: Any, have: Any | None, problems: list[str]
) -> Iterable[Change]:
    names = _compared_fields(want, spec.key_field)
    key = getattr(want, spec.key_field) if spec.key_field != "key" else want.key
    if have is None and not spec.always_exists:
        if spec.empty_is_absent and not any(getattr(want, n) for n in names):
            return
        created = tuple(
            FieldChange(n, None, _shown(getattr(want, n)))
            for n in names
            if getattr(want, n) not in (None, (), "")
        )
        yield Change(spec.kind, key, Action.CREATE, created, after=want)
        return
    changed = tuple(
        FieldChange(
            n, _shown(getattr(have, n)) if have is not None else None, _shown(getattr(want, n))
        )
        for n in names
        if have is None or getattr(have, n) != getattr(want, n)
    )
    if not changed:
        return
    reason = _adoption(spec, have, want)
    fixed = [f.name for f in changed if f.name in spec.fixed]
    if fixed:
        problems.append(
            f"{spec.kind}.{key}: {', '.join(fixed)} cannot change after creation "
            "(ecrcache does not recreate repositories); other changes are still planned"
        )
        changed = tuple(f for f in changed if f.name not in spec.fixed)
        if not changed:
            return
    yield Change(spec.kind, key, Action.UPDATE, changed, before=have, after=want, reason=reason)


def _adoption(spec: KindSpec, have: Any | None, want: Any) -> str | None:
    """Why a declared template's description changes when it lacks ecrcache's marker."""
    if spec.kind != "template" or have is None or spec.owned(have) or not spec.owned(want):
        return None
    return "adopted: ecrcache marks the templates it manages in their description"


def _shown(v: Any) -> Any:
    """A field value as plans show it: tag pairs as a dict, JSON text as parsed JSON."""
    if isinstance(v, tuple) and v and all(isinstance(x, tuple) and len(x) == 2 for x in v):
        return dict(v)
    if isinstance(v, str) and v.startswith(("{", "[")):
        try:
            return json.loads(v)
        except ValueError:
            return v
    if isinstance(v, tuple) and v and all(isinstance(x, str) and x.startswith("{") for x in v):
        return [_shown(x) for x in v]
    if isinstance(v, tuple) and v and hasattr(v[0], "__dataclass_fields__"):
        return [asdict(x) for x in v]
    return v
