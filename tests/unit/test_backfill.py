"""Backfill's reach (pure): which names it may touch, the backfill_repositories key's checks,
and plan.diff never changing a repository it reports as an application repository."""

from __future__ import annotations

from typing import Any

import pytest

from ecrcache.config.loading import parse_config
from ecrcache.config.schema import Config
from ecrcache.errors import ConfigError
from ecrcache.reconcile.backfill import BackfillScope, left_alone_notes
from ecrcache.reconcile.plan import diff
from ecrcache.reconcile.resources import MANAGED_TAGS, Repository, RepositorySettings, State

ROOT_RULE = {"upstream": "ecr-public"}
QUAY = {"upstream": "quay"}


def cfg(rules: dict[str, Any], templates: dict[str, Any], **top: Any) -> Config:
    return parse_config({"region": "af-south-1", "rules": rules, "templates": templates, **top})


def backfill(**extra: Any) -> dict[str, Any]:
    return {"lifecycle": {"keep_last": 5}, "backfill": True, **extra}


@pytest.mark.parametrize(
    ("name", "reached"),
    [
        ("quay/org/app", "ROOT"),  # under a rule prefix, ROOT template
        ("k8s/pause", "k8s"),  # under a rule prefix, its own template
        ("quay", None),  # the prefix itself is no cache name (ECR adds the slash)
        ("quayx/app", None),
        ("other-team/service", None),  # no ROOT rule: no cache name outside the prefixes
        ("acme/api", None),
    ],
)
def test_without_a_root_rule_only_rule_prefixes_are_reached(name: str, reached: str | None) -> None:
    c = cfg(
        {"quay": QUAY, "k8s": {"upstream": "k8s"}},
        {"ROOT": backfill(), "k8s": backfill()},
        repositories={"acme/api": {}},
    )
    scope = BackfillScope.of(c)
    assert scope.reach(name) == reached
    assert scope.left_alone([name]) == {}


def test_a_template_without_backfill_reaches_nothing() -> None:
    c = cfg({"quay": QUAY, "k8s": {"upstream": "k8s"}}, {"ROOT": backfill(), "k8s": {}})
    scope = BackfillScope.of(c)
    assert scope.reach("k8s/pause") is None  # its template (k8s) has no backfill
    assert scope.reach("quay/a") == "ROOT"


def test_managed_repositories_are_never_reached() -> None:
    scope = BackfillScope.of(cfg({"quay": QUAY}, {"ROOT": backfill()}))
    assert scope.reach("quay/tools", managed=True) is None
    assert scope.reached(["quay/a", "quay/tools"], managed=["quay/tools"]) == {"quay/a": "ROOT"}


def test_root_rule_names_are_reached_only_when_listed() -> None:
    c = cfg(
        {"ROOT": ROOT_RULE, "k8s": {"upstream": "k8s"}},
        {
            "ROOT": backfill(backfill_repositories=["library/*", "nginx"]),
            "bitnami": backfill(backfill_repositories=["bitnami/redis*"]),
        },
        repositories={"library/own": {}},
    )
    scope = BackfillScope.of(c)
    names = [
        "k8s/pause",
        "library/nginx",
        "library/a/b",  # * crosses /
        "nginx",
        "nginxx",
        "team/app",
        "library/own",  # declared: never
        "bitnami/redis",
        "bitnami/postgres",
        "bitnami/redis/x",
    ]
    assert scope.reached(names, managed=["library/tool"]) == {
        "k8s/pause": "ROOT",
        "library/nginx": "ROOT",
        "library/a/b": "ROOT",
        "nginx": "ROOT",
        "bitnami/redis": "bitnami",
        "bitnami/redis/x": "bitnami",
    }
    assert scope.left_alone([*names, "library/tool"], managed=["library/tool"]) == {
        "ROOT": ("nginxx", "team/app"),
        "bitnami": ("bitnami/postgres",),
    }


def test_a_root_template_pattern_does_not_reach_under_another_template() -> None:
    c = cfg(
        {"ROOT": ROOT_RULE},
        {"ROOT": backfill(backfill_repositories=["*nginx*"]), "mirror": {}},
    )
    scope = BackfillScope.of(c)
    assert scope.reach("library/nginx") == "ROOT"
    assert scope.reach("mirror/nginx") is None  # ECR gives it the mirror template (no backfill)


def test_a_template_not_for_pull_through_cache_is_not_the_cache_repositorys_template() -> None:
    c = cfg(
        {"quay": QUAY},
        {"ROOT": backfill(), "quay": {"applied_for": ["CREATE_ON_PUSH"]}},
    )
    assert BackfillScope.of(c).reach("quay/a") == "ROOT"


def test_notes_name_how_many_and_how() -> None:
    (one,) = left_alone_notes({"ROOT": ("team/app",)})
    assert "1 repository alone" in one and "(team/app)" in one
    assert 'templates.ROOT.backfill_repositories, e.g. ["team/*"]' in one
    (many,) = left_alone_notes({"ROOT": ("a/1", "b", "c/1", "d/1")})
    assert "4 repositories alone" in many and "(a/1, b, c/1, ...)" in many


# --- the backfill_repositories key ------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "templates", "fragment", "hint"),
    [
        (
            {"quay": QUAY},
            {"ROOT": backfill(backfill_repositories=["library/*"])},
            "templates.ROOT.backfill_repositories: backfill_repositories names repositories "
            "only a ROOT rule creates, and the config has no ROOT rule",
            "backfill = true already reaches every repository under the rule prefixes",
        ),
        (
            {"ROOT": ROOT_RULE},
            {"ROOT": {"backfill_repositories": ["library/*"]}},
            "templates.ROOT.backfill_repositories: backfill_repositories needs backfill = true",
            "add backfill = true",
        ),
        (
            {"ROOT": ROOT_RULE},
            {"ROOT": backfill(backfill_repositories=["*"])},
            "'*' is not a repository name pattern",
            '"*" alone would reach repositories people push to',
        ),
        (
            {"ROOT": ROOT_RULE},
            {"ROOT": backfill(backfill_repositories=["*/*"])},
            "'*/*' is not a repository name pattern",
            None,
        ),
        (
            {"ROOT": ROOT_RULE},
            {"ROOT": backfill(backfill_repositories=["Library/*"])},
            "'Library/*' is not a repository name pattern",
            None,
        ),
        (
            {"ROOT": ROOT_RULE},
            {"bitnami": backfill(backfill_repositories=["library/*"])},
            "'library/*' is outside this template's prefix 'bitnami'",
            'start it with "bitnami/"',
        ),
        (
            {"ROOT": ROOT_RULE},
            {"ROOT": backfill(backfill_repositories=["bitnami/*"]), "bitnami": {}},
            "'bitnami/*' is under templates.bitnami, which ECR applies to those names",
            "list it in templates.bitnami.backfill_repositories",
        ),
        (
            {"quay": QUAY},
            {"quay": backfill(applied_for=["CREATE_ON_PUSH"])},
            "templates.quay.backfill: backfill needs applied_for to include PULL_THROUGH_CACHE",
            "repositories the cache created",
        ),
    ],
)
def test_backfill_repositories_is_checked(
    rules: dict[str, Any], templates: dict[str, Any], fragment: str, hint: str | None
) -> None:
    with pytest.raises(ConfigError) as err:
        cfg(rules, templates)
    assert fragment in err.value.message
    assert "\n" not in err.value.message
    if hint is not None:
        assert err.value.hint is not None and hint in err.value.hint


def test_a_pattern_over_an_application_repository_is_warned_about() -> None:
    c = cfg(
        {"ROOT": ROOT_RULE},
        {"ROOT": backfill(backfill_repositories=["acme/*"])},
        repositories={"acme/api": {}},
    )
    assert any(
        "'acme/*' matches the application repository 'acme/api', which backfill leaves alone" in w
        for w in c.warnings()
    )


# --- plan.diff: never "left alone" and changed at once -----------------------------------------


def test_diff_never_changes_a_repository_it_reports_as_left_alone() -> None:
    """Even handed desired settings for it, diff leaves an ecrcache repository that is no longer
    declared (an unmanaged application repository) alone."""
    old = Repository("acme/old", tags=MANAGED_TAGS, lifecycle_policy='{"rules":[]}')
    have = RepositorySettings("acme/old", lifecycle_policy=None, tag_mutability="IMMUTABLE")
    want = RepositorySettings(
        "acme/old", lifecycle_policy='{"rules":[1]}', tag_mutability="MUTABLE"
    )
    cache_have = RepositorySettings("quay/a", lifecycle_policy=None, tag_mutability="MUTABLE")
    cache_want = RepositorySettings(
        "quay/a", lifecycle_policy='{"rules":[1]}', tag_mutability="MUTABLE"
    )
    live = State.of(repositories=(old,), repository_settings=(have, cache_have))
    desired = State.of(repository_settings=(want, cache_want))
    plan = diff(desired, live)
    assert [u.address for u in plan.unmanaged] == ["repository.acme/old"]
    assert [c.address for c in plan.changes] == ["repository-settings.quay/a"]


def test_diff_never_backfills_a_declared_application_repository() -> None:
    repo = Repository("acme/api")
    want = RepositorySettings(
        "acme/api", lifecycle_policy='{"rules":[1]}', tag_mutability="MUTABLE"
    )
    plan = diff(
        State.of(repositories=(repo,), repository_settings=(want,)),
        State.of(repositories=(repo,)),
    )
    assert plan.empty
