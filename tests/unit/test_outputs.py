"""outputs: pull prefixes and examples for every upstream kind, ROOT, and ECR upstream prefixes."""

from __future__ import annotations

import io
from typing import Any

import pytest

from ecrcache.config.loading import parse_config
from ecrcache.reconcile.outputs import compute_outputs
from ecrcache.render.outputs import render_outputs

ACCOUNT = "123456789012"
HOST = f"{ACCOUNT}.dkr.ecr.af-south-1.amazonaws.com"
SECRET = {"secret": "ecr-pullthroughcache/x"}
MIRROR = "111122223333.dkr.ecr.eu-west-1.amazonaws.com"

CASES: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "docker-hub",
        {"upstream": "docker-hub", "credentials": SECRET},
        "nginx:1.27",
        f"{HOST}/docker-hub/library/nginx:1.27",
    ),
    (
        "quay",
        {"upstream": "quay"},
        "quay.io/prometheus/node-exporter:v1.8.0",
        f"{HOST}/quay/prometheus/node-exporter:v1.8.0",
    ),
    ("k8s", {"upstream": "k8s"}, "registry.k8s.io/pause:3.10", f"{HOST}/k8s/pause:3.10"),
    (
        "ghcr",
        {"upstream": "github-container-registry", "credentials": SECRET},
        "ghcr.io/<org>/<image>:<tag>",
        f"{HOST}/ghcr/<org>/<image>:<tag>",
    ),
    (
        "ecr-public",
        {"upstream": "ecr-public"},
        "public.ecr.aws/docker/library/alpine:3.20",
        f"{HOST}/ecr-public/docker/library/alpine:3.20",
    ),
    (
        "azure",
        {
            "upstream": "azure-container-registry",
            "url": "acmeregistry.azurecr.io",
            "credentials": SECRET,
        },
        "acmeregistry.azurecr.io/<image>:<tag>",
        f"{HOST}/azure/<image>:<tag>",
    ),
    # an ECR upstream prefix is the upstream's side of the path: it is not in the cache path
    (
        "mirror",
        {
            "upstream": "ecr",
            "url": MIRROR,
            "upstream_prefix": "team-a",
            "role_arn": f"arn:aws:iam::{ACCOUNT}:role/r",
        },
        f"{MIRROR}/team-a/<image>:<tag>",
        f"{HOST}/mirror/<image>:<tag>",
    ),
    (
        "ROOT",
        {"upstream": "docker-hub", "credentials": SECRET},
        "nginx:1.27",
        f"{HOST}/library/nginx:1.27",
    ),
]


def outputs(rules: dict[str, Any], **top: Any) -> Any:
    cfg = parse_config({"region": "af-south-1", "rules": rules, **top})
    return compute_outputs(cfg, account_id=ACCOUNT, region="af-south-1", ci_policy_arn=None)


@pytest.mark.parametrize(("prefix", "rule", "example", "cached"), CASES)
def test_example_per_upstream(prefix: str, rule: dict[str, Any], example: str, cached: str) -> None:
    (p,) = outputs({prefix: rule}).pull_prefixes
    assert p.example == example
    assert p.cached_example == cached
    assert p.pull_prefix == (f"{HOST}/" if prefix == "ROOT" else f"{HOST}/{prefix}/")
    assert p.cached_example.startswith(p.pull_prefix)


def test_each_rule_gets_its_own_example_when_two_share_a_host() -> None:
    result = outputs({"ROOT": {"upstream": "quay"}, "quay": {"upstream": "quay"}})
    by_prefix = {p.prefix: p.cached_example for p in result.pull_prefixes}
    assert by_prefix == {
        "ROOT": f"{HOST}/prometheus/node-exporter:v1.8.0",
        "quay": f"{HOST}/quay/prometheus/node-exporter:v1.8.0",
    }


def test_login_and_ci_policy() -> None:
    result = outputs({"quay": {"upstream": "quay"}}, ci_policy={"name": "ci"})
    assert result.registry == HOST
    assert result.login_command == (
        "aws ecr get-login-password --region af-south-1 | docker login --username AWS "
        f"--password-stdin {HOST}"
    )
    assert result.ci_policy_name == "ci" and result.ci_policy_arn is None
    assert outputs({}).ci_policy_name is None


def test_china_region_host() -> None:
    cfg = parse_config({"region": "cn-north-1", "rules": {"quay": {"upstream": "quay"}}})
    result = compute_outputs(cfg, account_id=ACCOUNT, region="cn-north-1", ci_policy_arn=None)
    assert (
        result.pull_prefixes[0].pull_prefix
        == f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn/quay/"
    )


def test_text_is_never_truncated_even_when_narrow() -> None:
    result = outputs(
        {p: r for p, r, _, _ in CASES if p != "ROOT"},
        ci_policy={"name": "ci"},
    )
    buf = io.StringIO()
    render_outputs(result, buf, no_color=True)
    text = buf.getvalue()
    assert "…" not in text
    for p in result.pull_prefixes:
        assert p.cached_example in text and p.pull_prefix in text
    assert result.login_command in text
    assert "ci: not created yet" in text
