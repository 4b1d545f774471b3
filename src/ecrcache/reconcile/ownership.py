"""How ecrcache tells its own templates and rules from everybody else's. Pure.

``apply --prune`` deletes only what is provably ecrcache's; the rest of the account is listed as
unmanaged and never touched ("nothing ecrcache does touches what the config does not manage").

- **Creation templates** cannot be tagged: botocore's ECR model gives a template no ARN
  (RepositoryCreationTemplate) for TagResource, and CreateRepositoryCreationTemplateRequest no
  ``tags``. ``resourceTags`` is not the template's
  own tag but the tags ECR puts on *every repository the template creates*: a managed-by tag
  there would mark each cached repository as one of ecrcache's application repositories (which
  prune deletes) and, ECR's service-linked role being unable to tag, break pulls without a
  ``customRoleArn``. So ecrcache marks a template in its ``description`` (a free string of at most
  256 characters, RepositoryTemplateDescription in the model, read back as written by
  DescribeRepositoryCreationTemplates): the user's own text, then :data:`TEMPLATE_MARKER`.
  Exact: ecrcache writes the marker and compares the whole text, so a template that lacks it
  (someone else's, or one ecrcache made before the marker) shows an update when declared and is
  never a delete when not.
- **Pull-through cache rules** carry neither tags nor a description (model: PullThroughCacheRule
  has prefix, URLs, ``credentialArn``, ``customRoleArn``, ``upstreamRepositoryPrefix``). The one
  thing of ecrcache's a rule can hold is its credential secret: ecrcache creates a secret only for
  its own rule and tags it managed-by=ecrcache. A rule is ecrcache's when the secret it holds,
  by its exact ARN, carries that tag. A rule with no credential (Quay, k8s, ECR Public, ECR) or
  with somebody else's secret cannot be proven ecrcache's: prune leaves it, and the plan says how
  to remove it by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ecrcache.config.registry import TEMPLATE_DESCRIPTION_MAX, TEMPLATE_MARKER_SUFFIX
from ecrcache.reconcile.changes import Unmanaged
from ecrcache.reconcile.resources import MANAGED_BY_KEY, MANAGED_BY_VALUE, Rule, Secret

TEMPLATE_MARKER = f"[{MANAGED_BY_KEY}={MANAGED_BY_VALUE}]"
# The config holds the user's text to what is left of ECR's 256 once the marker follows it.
assert TEMPLATE_MARKER_SUFFIX == " " + TEMPLATE_MARKER
USER_DESCRIPTION_MAX = TEMPLATE_DESCRIPTION_MAX


def marked_description(text: str | None) -> str:
    """The description ecrcache writes: the user's text (if any), a space, the marker."""
    return f"{text} {TEMPLATE_MARKER}" if text else TEMPLATE_MARKER


def split_description(raw: str | None) -> tuple[str | None, bool]:
    """A live description → (the user's text or None, whether it carries ecrcache's marker).

    The inverse of :func:`marked_description`: exactly one marker (and its space) is removed,
    so any user text round-trips, one ending in the marker too."""
    if not raw:
        return None, False
    if raw == TEMPLATE_MARKER:
        return None, True
    if raw.endswith(" " + TEMPLATE_MARKER):
        return raw[: -len(TEMPLATE_MARKER) - 1] or None, True
    return raw, False


def template_is_ours(description: str | None) -> bool:
    return split_description(description)[1]


def rule_is_ours(rule: Rule, secrets: Mapping[str, Secret]) -> bool:
    """The rule holds a secret ecrcache made (tagged managed-by), by that secret's exact ARN."""
    if rule.credential is None or rule.credential_arn is None:
        return False
    secret = secrets.get(rule.credential)
    return secret is not None and secret.managed and secret.arn == rule.credential_arn


def foreign_notes(
    foreign: Iterable[Unmanaged], *, prune: bool, sandbox: bool = False
) -> tuple[str, ...]:
    """One note on the undeclared templates and rules that are not provably ecrcache's: shown,
    never deleted, and how to take one over or remove it."""
    items = sorted(foreign, key=lambda u: u.address)
    flag = " --sandbox" if sandbox else ""
    unread: tuple[str, ...] = ()
    if not prune:
        # Without --prune the secrets a rule holds are not read, so whether a rule is
        # ecrcache's is not known yet: say what decides, never that it is not.
        undecided = [u for u in items if u.kind == "rule"]
        items = [u for u in items if u.kind != "rule"]
        if undecided:
            unread = (
                f"Rules not in the config: {', '.join(u.address for u in undecided)}. --prune "
                "deletes one only if it holds a secret ecrcache made "
                f"(`ecrcache{flag} plan --prune` shows which); to remove another, delete it "
                "yourself (aws ecr delete-pull-through-cache-rule --ecr-repository-prefix "
                f"{undecided[0].key})",
            )
    if not items:
        return unread
    names = ", ".join(u.address for u in items)
    note = (
        f"Not provably ecrcache's, so {'this' if prune else 'a'} --prune never deletes "
        f"{'it' if len(items) == 1 else 'them'}: {names}. To manage one, declare it "
        f"(`ecrcache{flag} import --out FILE` writes the TOML) and apply"
    )
    if any(u.kind == "template" for u in items):
        note += (
            f"; ecrcache then marks a template as its own in its description ({TEMPLATE_MARKER})"
        )
    rules = [u.key for u in items if u.kind == "rule"]
    if rules:
        note += (
            ". A rule cannot be marked: it is ecrcache's only when it holds a secret ecrcache "
            "made; to remove another, delete it yourself (aws ecr "
            f"delete-pull-through-cache-rule --ecr-repository-prefix {rules[0]})"
        )
    return (note, *unread)
