"""Each node-type wrapper, parsed the way its consumer parses it, and pinned by a golden file.

Consumers: nodeadm reads MIME multi-part user data (Python's ``email`` here) whose
``application/node.eks.aws`` parts are NodeConfig YAML; cloud-init reads the ``text/cloud-config``
part; Bottlerocket reads TOML settings (tomllib); Karpenter reads the EC2NodeClass YAML. Field
names are checked against the published APIs: nodeadm's API reference
(https://awslabs.github.io/amazon-eks-ami/nodeadm/doc/api: NodeConfigSpec, ContainerdOptions,
KubeletOptions) and Karpenter's EC2NodeClass (karpenter.k8s.aws/v1 spec fields).

Golden files live in tests/data/node/; regenerate them with ECRCACHE_UPDATE_GOLDEN=1 and review
the diff.
"""

from __future__ import annotations

import email
import os
import tomllib
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import yaml

from ecrcache.config.loading import load_config
from ecrcache.config.schema import Config
from ecrcache.node.bundle import NodeBundle, build_bundle

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "node"
ACCOUNT = "123456789012"

CONFIG = """
version = 1
region = "af-south-1"
account_id = "123456789012"

[rules.docker-hub]
upstream = "docker-hub"
[rules.docker-hub.credentials]
secret = "ecr-pullthroughcache/docker-hub"

[rules.quay]
upstream = "quay"

[rules.github]
upstream = "github-container-registry"
[rules.github.credentials]
secret = "ecr-pullthroughcache/github"

[rules.k8s]
upstream = "k8s"

[rules.ecr-public]
upstream = "ecr-public"
"""

NODECONFIG_SPEC = {"cluster", "containerd", "instance", "kubelet", "featureGates"}
CONTAINERD_OPTIONS = {"config", "baseRuntimeSpec"}
KUBELET_OPTIONS = {"config", "flags"}
EC2NODECLASS_SPEC = {
    "amiFamily",
    "amiSelectorTerms",
    "role",
    "instanceProfile",
    "subnetSelectorTerms",
    "securityGroupSelectorTerms",
    "capacityReservationSelectorTerms",
    "associatePublicIPAddress",
    "userData",
    "tags",
    "kubelet",
    "blockDeviceMappings",
    "instanceStorePolicy",
    "detailedMonitoring",
    "metadataOptions",
    "context",
}


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = tmp_path / "ecrcache.toml"
    path.write_text(CONFIG)
    return load_config(path)


def bundle(config: Config, node_type: str, **kw: Any) -> NodeBundle:
    return build_bundle(config, account_id=ACCOUNT, node_type=node_type, **kw)


def golden(name: str, content: str) -> None:
    path = GOLDEN / name
    if os.environ.get("ECRCACHE_UPDATE_GOLDEN"):
        path.write_text(content)
    assert content == path.read_text(), f"{name} changed: review, then ECRCACHE_UPDATE_GOLDEN=1"


def parts(mime: str) -> list[Message]:
    msg = email.message_from_string(mime)
    assert msg.is_multipart() and msg.get_content_type() == "multipart/mixed"
    payload = msg.get_payload()
    assert isinstance(payload, list)
    return payload


def check_al2023(mime: str, node_files: dict[str, str]) -> None:
    nodeconfig, cloud = parts(mime)
    assert nodeconfig.get_content_type() == "application/node.eks.aws"
    doc = yaml.safe_load(nodeconfig.get_payload())
    assert doc["apiVersion"] == "node.eks.aws/v1alpha1" and doc["kind"] == "NodeConfig"
    assert set(doc["spec"]) <= NODECONFIG_SPEC
    assert "cluster" not in doc["spec"]  # left to EKS/Karpenter: nodeadm merges the parts
    assert set(doc["spec"]["containerd"]) <= CONTAINERD_OPTIONS
    assert set(doc["spec"]["kubelet"]) <= KUBELET_OPTIONS
    fragment = tomllib.loads(doc["spec"]["containerd"]["config"])
    assert fragment["version"] == 3
    images = fragment["plugins"]["io.containerd.cri.v1.images"]
    assert images["registry"]["config_path"] == "/etc/containerd/certs.d"
    assert images["use_local_image_pull"] is True
    flags = doc["spec"]["kubelet"]["flags"]
    assert flags == [
        "--image-credential-provider-config=/etc/eks/image-credential-provider/ecrcache-config.json"
    ]
    assert cloud.get_content_type() == "text/cloud-config"
    body = cloud.get_payload()
    assert body.startswith("#cloud-config\n")
    written = {f["path"]: f["content"] for f in yaml.safe_load(body)["write_files"]}
    assert written == node_files
    for path, content in written.items():
        if path.endswith(".toml"):
            tomllib.loads(content)


def test_al2023_user_data(config: Config) -> None:
    b = bundle(config, "al2023")
    ((f,),) = (b.files,)
    assert f.path == "user-data.mime"
    check_al2023(f.content, {n.path: n.content for n in b.node_files})
    assert sorted(n.path for n in b.node_files) == [
        "/etc/containerd/certs.d/docker.io/hosts.toml",
        "/etc/containerd/certs.d/ghcr.io/hosts.toml",
        "/etc/containerd/certs.d/quay.io/hosts.toml",
        "/etc/containerd/certs.d/registry.k8s.io/hosts.toml",
        "/etc/eks/image-credential-provider/ecrcache-config.json",
    ]
    golden("al2023-user-data.mime", f.content)


def check_bottlerocket(text: str) -> None:
    doc = tomllib.loads(text)
    settings = doc["settings"]
    assert set(settings) == {"container-registry", "kubernetes"}
    mirrors = settings["container-registry"]["mirrors"]
    assert {m["registry"]: m["endpoint"] for m in mirrors} == {
        "docker.io": [f"https://{ACCOUNT}.dkr.ecr.af-south-1.amazonaws.com/v2/docker-hub"],
        "ghcr.io": [f"https://{ACCOUNT}.dkr.ecr.af-south-1.amazonaws.com/v2/github"],
        "quay.io": [f"https://{ACCOUNT}.dkr.ecr.af-south-1.amazonaws.com/v2/quay"],
        "registry.k8s.io": [f"https://{ACCOUNT}.dkr.ecr.af-south-1.amazonaws.com/v2/k8s"],
    }
    provider = settings["kubernetes"]["credential-providers"]["ecr-credential-provider"]
    assert provider["enabled"] is True
    assert {"docker.io", "quay.io", "ghcr.io", "registry.k8s.io"} <= set(provider["image-patterns"])
    assert provider["environment"] == {"AWS_REGION": "af-south-1"}


def test_bottlerocket_settings(config: Config) -> None:
    b = bundle(config, "bottlerocket")
    ((f,),) = (b.files,)
    check_bottlerocket(f.content)
    assert b.node_files == ()  # Bottlerocket renders its own files from the settings
    golden("bottlerocket-user-data.toml", f.content)


@pytest.mark.parametrize("family", ["al2023", "bottlerocket"])
def test_karpenter_ec2nodeclass(config: Config, family: str) -> None:
    b = bundle(config, f"karpenter-{family}", cluster="prod")
    ((f,),) = (b.files,)
    doc = yaml.safe_load(f.content)
    assert doc["apiVersion"] == "karpenter.k8s.aws/v1" and doc["kind"] == "EC2NodeClass"
    spec = doc["spec"]
    assert set(spec) <= EC2NODECLASS_SPEC
    assert {"amiSelectorTerms", "subnetSelectorTerms", "securityGroupSelectorTerms"} <= set(spec)
    assert spec["role"] == "KarpenterNodeRole-prod"
    if family == "al2023":
        assert spec["amiFamily"] == "AL2023"
        assert spec["amiSelectorTerms"] == [{"alias": "al2023@latest"}]
        raw = bundle(config, "al2023")
        check_al2023(spec["userData"], {n.path: n.content for n in raw.node_files})
    else:
        assert spec["amiFamily"] == "Bottlerocket"
        check_bottlerocket(spec["userData"])
    golden(f"ec2nodeclass-{family}.yaml", f.content)


def test_raw_files(config: Config) -> None:
    b = bundle(config, "files")
    by_path = {f.path: f.content for f in b.files}
    hosts = tomllib.loads(by_path["/etc/containerd/certs.d/docker.io/hosts.toml"])
    assert hosts == {
        "server": "https://registry-1.docker.io",
        "host": {
            f"https://{ACCOUNT}.dkr.ecr.af-south-1.amazonaws.com/v2/docker-hub": {
                "capabilities": ["pull", "resolve"],
                "override_path": True,
            }
        },
    }
    golden("hosts-docker.io.toml", by_path["/etc/containerd/certs.d/docker.io/hosts.toml"])
    golden(
        "ecrcache-config.json", by_path["/etc/eks/image-credential-provider/ecrcache-config.json"]
    )
    golden("containerd-v3.toml", by_path["/etc/containerd/config.d/ecrcache.toml"])
    v2 = bundle(config, "files", containerd_config_version=2).files
    fragment = next(f.content for f in v2 if f.path.endswith("ecrcache.toml"))
    assert tomllib.loads(fragment) == {
        "version": 2,
        "plugins": {
            "io.containerd.grpc.v1.cri": {"registry": {"config_path": "/etc/containerd/certs.d"}}
        },
    }
    golden("containerd-v2.toml", fragment)
