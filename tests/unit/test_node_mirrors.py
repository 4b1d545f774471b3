"""node-config's choices, rule by rule: which hosts are mirrored where, which are left out and
why, the registry host per partition, and kubelet's matchImages rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecrcache.config.loading import load_config
from ecrcache.config.schema import Config
from ecrcache.node import containerd, credprovider
from ecrcache.node.bundle import NodeConfigError, build_bundle
from ecrcache.node.mirrors import plan_mirrors

ACCOUNT = "123456789012"


def config(tmp_path: Path, body: str, region: str = "af-south-1") -> Config:
    path = tmp_path / "c.toml"
    path.write_text(f'version = 1\nregion = "{region}"\naccount_id = "{ACCOUNT}"\n{body}')
    return load_config(path)


HUB = """
[rules.{key}]
upstream = "docker-hub"
[rules.{key}.credentials]
secret = "ecr-pullthroughcache/hub"
"""


def test_root_rule_mirrors_without_a_prefix(tmp_path: Path) -> None:
    plan = plan_mirrors(config(tmp_path, HUB.format(key="ROOT")), account_id=ACCOUNT)
    (m,) = plan.mirrors
    assert (m.namespace, m.mirror_path) == ("docker.io", "/v2")
    assert m.mirror_url == f"https://{ACCOUNT}.dkr.ecr.af-south-1.amazonaws.com/v2"


def test_a_named_rule_wins_the_host_over_root(tmp_path: Path) -> None:
    body = HUB.format(key="ROOT") + HUB.format(key="hub")
    plan = plan_mirrors(config(tmp_path, body), account_id=ACCOUNT)
    assert [m.prefix for m in plan.mirrors] == ["hub"]
    ((prefix, reason),) = [(s.prefix, s.reason) for s in plan.skipped]
    assert prefix == "ROOT" and "already mirrored through 'hub'" in reason


def ecr_rule(url: str, extra: str = "") -> str:
    return f"""
[rules.team]
upstream = "ecr"
url = "{url}"
role_arn = "arn:aws:iam::{ACCOUNT}:role/ptc"
{extra}
"""


def test_ecr_upstream_in_the_same_region_is_mirrored_under_its_own_host(tmp_path: Path) -> None:
    plan = plan_mirrors(
        config(tmp_path, ecr_rule("111122223333.dkr.ecr.af-south-1.amazonaws.com")),
        account_id=ACCOUNT,
    )
    (m,) = plan.mirrors
    assert m.namespace == "111122223333.dkr.ecr.af-south-1.amazonaws.com"
    assert m.server == "https://111122223333.dkr.ecr.af-south-1.amazonaws.com"


@pytest.mark.parametrize(
    ("url", "extra", "why"),
    [
        ("111122223333.dkr.ecr.eu-west-1.amazonaws.com", "", "tokens are regional"),
        (
            "111122223333.dkr.ecr.af-south-1.amazonaws.com",
            'upstream_prefix = "team-a"',
            "cannot replace the upstream's prefix",
        ),
    ],
)
def test_ecr_upstreams_a_mirror_cannot_serve_are_skipped(
    tmp_path: Path, url: str, extra: str, why: str
) -> None:
    plan = plan_mirrors(config(tmp_path, ecr_rule(url, extra)), account_id=ACCOUNT)
    assert plan.mirrors == ()
    assert why in plan.skipped[0].reason


def test_ecr_public_is_skipped_for_its_credentials(tmp_path: Path) -> None:
    body = '[rules.ecr-public]\nupstream = "ecr-public"\n[rules.quay]\nupstream = "quay"\n'
    plan = plan_mirrors(config(tmp_path, body), account_id=ACCOUNT)
    assert [m.namespace for m in plan.mirrors] == ["quay.io"]
    assert "ECR Public credentials" in plan.skipped[0].reason
    assert "public.ecr.aws" not in credprovider.image_patterns(plan)


def test_china_regions_use_their_partition_suffix(tmp_path: Path) -> None:
    plan = plan_mirrors(
        config(tmp_path, '[rules.quay]\nupstream = "quay"\n', region="cn-north-1"),
        account_id=ACCOUNT,
    )
    assert plan.registry == f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn"
    assert plan.mirrors[0].mirror_url.startswith(f"https://{plan.registry}/v2/quay")


def test_no_fallback_makes_the_mirror_the_server(tmp_path: Path) -> None:
    (m,) = plan_mirrors(config(tmp_path, HUB.format(key="hub")), account_id=ACCOUNT).mirrors
    doc = containerd.hosts_toml_doc(m, no_fallback=True)
    assert doc["server"] == m.mirror_url and doc["override_path"] is True
    assert containerd.hosts_toml_doc(m)["server"] == "https://registry-1.docker.io"


@pytest.mark.parametrize(
    ("pattern", "image", "hit"),
    [
        ("*.dkr.ecr.*.amazonaws.com", f"{ACCOUNT}.dkr.ecr.af-south-1.amazonaws.com", True),
        ("*.dkr.ecr.*.amazonaws.com", f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn", False),
        ("docker.io", "docker.io/library/nginx", True),
        ("*.io", "registry.k8s.io", False),  # a * stays inside one label
        ("*.k8s.io", "registry.k8s.io", True),
        ("registry.io:8080/path", "registry.io:8080/path/image", True),
        ("registry.io:8080/path", "registry.io:9090/path/image", False),
        ("quay.io", "ghcr.io", False),
    ],
)
def test_kubelet_match_images_rule(pattern: str, image: str, hit: bool) -> None:
    assert credprovider.matches(pattern, image) is hit


def test_combinations_no_node_can_honour_are_refused(tmp_path: Path) -> None:
    cfg = config(tmp_path, HUB.format(key="hub"))
    with pytest.raises(NodeConfigError, match="always fall back"):
        build_bundle(cfg, account_id=ACCOUNT, node_type="karpenter-bottlerocket", no_fallback=True)
    with pytest.raises(NodeConfigError, match="version 4"):
        build_bundle(cfg, account_id=ACCOUNT, containerd_config_version=4)
    with pytest.raises(NodeConfigError, match="unknown node type"):
        build_bundle(cfg, account_id=ACCOUNT, node_type="al2")
    only_public = config(tmp_path, '[rules.ecr-public]\nupstream = "ecr-public"\n')
    with pytest.raises(NodeConfigError, match="no rule") as info:
        build_bundle(only_public, account_id=ACCOUNT)
    assert "ECR Public credentials" in (info.value.hint or "")
