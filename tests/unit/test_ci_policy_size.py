"""The CI policy fits IAM's managed policy limit (6,144 characters, whitespace not counted:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html) for 500
application repositories and 50 rules with realistic names, stays exact and least-privilege
there, and validate warns from 90% of the limit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ecrcache.config.ci_policy import ci_policy_for, policy_chars, size_warnings
from ecrcache.config.loading import parse_config
from ecrcache.config.schema import Config
from ecrcache.policy.iam import evaluate
from ecrcache.policy.policies import MANAGED_POLICY_MAX_CHARS

ACCOUNT, REGION = "123456789012", "ap-southeast-2"  # the longest common region name length
UPSTREAMS = ["quay", "k8s", "ecr-public"]
TEAMS = ["payments", "identity-platform", "search", "data-eng", "mobile-backend"]


def realistic_prefix(i: int) -> str:
    """Names teams really give rules: short ones, nested ones, some of the full 30."""
    shapes = [
        f"hub-{i:02d}",
        f"{TEAMS[i % 5]}/quay-{i:02d}",
        f"mirror-{i:02d}/registry-k8s-io",
        f"p{i:02d}-" + "x" * 26,  # 30 characters, ECR's maximum
    ]
    return shapes[i % 4][:30].rstrip("-/")


def big_config(prefixes: list[str], repos: int = 500, **top: Any) -> Config:
    rules = {p: {"upstream": UPSTREAMS[i % 3]} for i, p in enumerate(prefixes)}
    repositories = {
        f"{TEAMS[i % 5]}/service-name-{i}": {"tags": {"team": TEAMS[i % 5]}} for i in range(repos)
    }
    templates = {
        "ROOT": {"lifecycle": {"keep_last": 30}},
        prefixes[0]: {"tags": {"cost": "cache"}, "role_arn": f"arn:aws:iam::{ACCOUNT}:role/tpl"},
    }
    doc = {
        "region": REGION,
        "account_id": ACCOUNT,
        "rules": rules,
        "repositories": repositories,
        "templates": templates,
        "pullers": {"principals": [ACCOUNT]},
        "ci_policy": {},
        **top,
    }
    return parse_config(doc)


REALISTIC = [realistic_prefix(i) for i in range(50)]
WORST = [f"p{i:02d}-" + "x" * 26 for i in range(50)]


def repo(name: str) -> str:
    return f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{name}"


def allowed(doc: dict[str, Any], action: str, name: str, context: dict[str, Any]) -> bool:
    context = {"aws:RequestedRegion": REGION, **context}
    return evaluate(action, repo(name), identity_policies=[doc], context=context).allowed


def statement(doc: dict[str, Any], sid: str) -> dict[str, Any]:
    return next(s for s in doc["Statement"] if s["Sid"] == sid)


def test_500_repositories_and_50_realistic_rules_fit_exactly() -> None:
    cfg = big_config(REALISTIC)
    doc = ci_policy_for(cfg, account_id=ACCOUNT, region=REGION)
    size = policy_chars(doc)
    assert size < MANAGED_POLICY_MAX_CHARS, size
    # exact: one ARN per cache prefix, listed once in the whole document, nothing collapsed
    cache = statement(doc, "EcrcacheCacheRepositories")["Resource"]
    arns = sorted(f"arn:aws:ecr:*:{ACCOUNT}:repository/{p}/*" for p in REALISTIC)
    assert sorted(cache) == arns
    text = json.dumps(doc)
    for p in REALISTIC:
        assert text.count(f"repository/{p}/*") == 1
    # no application repository is named: they are scoped by ecrcache's tag
    assert "service-name" not in text


def test_the_worst_case_still_fits_and_still_covers_every_rule() -> None:
    """50 prefixes of ECR's full 30 characters and 500 repositories."""
    cfg = big_config(WORST)
    doc = ci_policy_for(cfg, account_id=ACCOUNT, region=REGION)
    assert policy_chars(doc) <= MANAGED_POLICY_MAX_CHARS
    for p in WORST:
        assert allowed(doc, "ecr:CreateRepository", f"{p}/library/nginx", {})
    # and validate says how close it is
    assert any("of the 6,144 characters" in w for w in cfg.warnings())


OURS = {"aws:ResourceTag/managed-by": "ecrcache"}


@pytest.mark.parametrize(
    ("action", "name", "context", "expected"),
    [
        ("ecr:PutLifecyclePolicy", "payments/service-name-0", OURS, True),
        ("ecr:PutImage", "search/service-name-2", OURS, True),
        # a repository ecrcache did not create, with the same name pattern: untouched
        ("ecr:PutLifecyclePolicy", "payments/service-name-0", {}, False),
        ("ecr:PutImage", "payments/other", {"aws:ResourceTag/managed-by": "terraform"}, False),
        ("ecr:DeleteRepository", "payments/other", {}, False),
        # cache repositories, by prefix
        ("ecr:PutLifecyclePolicy", f"{REALISTIC[1]}/prom/node-exporter", {}, True),
        ("ecr:PutLifecyclePolicy", f"{REALISTIC[1]}x/prom/node-exporter", {}, False),
        # creating: only with ecrcache's tag, and only the declared tag keys
        (
            "ecr:CreateRepository",
            "payments/new",
            {"aws:RequestTag/managed-by": "ecrcache", "aws:TagKeys": ["managed-by", "team"]},
            True,
        ),
        ("ecr:CreateRepository", "payments/new", {}, False),
        (
            "ecr:CreateRepository",
            "payments/new",
            {"aws:RequestTag/managed-by": "ecrcache", "aws:TagKeys": ["managed-by", "owner"]},
            False,
        ),
    ],
)
def test_still_least_privilege_at_that_size(
    action: str, name: str, context: dict[str, Any], expected: bool
) -> None:
    doc = ci_policy_for(big_config(REALISTIC), account_id=ACCOUNT, region=REGION)
    assert allowed(doc, action, name, context) is expected


def test_size_is_counted_as_iam_counts_it_without_whitespace() -> None:
    doc = ci_policy_for(big_config(REALISTIC[:3], repos=3), account_id=ACCOUNT, region=REGION)
    assert policy_chars(doc) == len(json.dumps(doc, separators=(",", ":")))
    assert policy_chars(doc) < len(json.dumps(doc, indent=2))


def test_no_warning_far_from_the_limit() -> None:
    assert size_warnings(big_config(REALISTIC[:5], repos=5)) == []


def test_warning_from_ninety_percent_naming_the_figures() -> None:
    # grow the prefix list until the exact document passes 90% of the limit
    for n in range(5, 51):
        cfg = big_config(WORST[:n], repos=2)
        size = policy_chars(ci_policy_for(cfg, account_id=ACCOUNT, region=REGION))
        if size >= 0.9 * MANAGED_POLICY_MAX_CHARS:
            break
    assert size < MANAGED_POLICY_MAX_CHARS  # warned before the limit is reached
    (warning,) = [w for w in size_warnings(cfg) if w.startswith("ci_policy:")]
    assert f"{size:,} of the 6,144 characters" in warning
    smaller = big_config(WORST[: n - 1], repos=2)
    assert [w for w in size_warnings(smaller) if w.startswith("ci_policy:")] == [] or n == 5


def test_no_ci_policy_no_warning() -> None:
    cfg = big_config(WORST, ci_policy=None)
    assert not [w for w in size_warnings(cfg) if w.startswith("ci_policy:")]


def test_validate_prints_the_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import tomli_w

    lines = {"region": REGION, "ci_policy": {}, "rules": {p: {"upstream": "quay"} for p in WORST}}
    path = tmp_path / "ecrcache.toml"
    path.write_text(tomli_w.dumps(lines))
    from ecrcache.cli.app import run

    code = run(["validate", "-c", str(path)])
    out, err = capsys.readouterr()
    assert code == 0
    assert "is valid" in out
    assert "of the 6,144 characters IAM allows a managed policy" in " ".join(err.split())
