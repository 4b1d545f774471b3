"""The files, packed the way each node type takes them.

- AL2023 (nodeadm): MIME multi-part user data. A ``NodeConfig`` part (``application/node.eks.aws``)
  carries the containerd fragment in ``spec.containerd.config`` (nodeadm merges it into its own
  config, amazon-eks-ami PR #1637 and #1780; one inline string, so the last NodeConfig that sets
  it wins) and points kubelet at our credential provider config with a flag (user flags come
  after nodeadm's own, and the last one wins: PR #1609). A ``text/cloud-config`` part writes the
  hosts.toml files and that config; cloud-init runs it before nodeadm starts kubelet.
- Bottlerocket: settings TOML. ``settings.container-registry.mirrors`` (the endpoint URL keeps
  its ``/v2/<prefix>`` path; Bottlerocket offers no override_path setting, bottlerocket#1888)
  and ``settings.kubernetes.credential-providers.ecr-credential-provider``. Its mirrors always
  fall back to the upstream ("The runtime will still try the default registry URL if the
  mirrors fail", Bottlerocket container-registry settings; bottlerocket#4891 asks for a way
  out), so ``--no-fallback`` is refused for it.
- Karpenter: an ``EC2NodeClass`` whose ``spec.userData`` is either of the above (Karpenter
  merges it with the NodeConfig or settings it generates itself), with ``amiFamily`` and an
  ``amiSelectorTerms`` alias to match.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from typing import Any

import tomli_w
import yaml

from ecrcache.node import credprovider
from ecrcache.node.mirrors import MirrorPlan

BOUNDARY = "==ECRCACHE-NODE-CONFIG=="
NODEADM_API = "node.eks.aws/v1alpha1"
KARPENTER_API = "karpenter.k8s.aws/v1"


@dataclass(frozen=True)
class NodeFile:
    """A file to put on the node: absolute ``path``, text ``content``, octal ``mode``."""

    path: str
    content: str
    mode: str = "0644"


class _Literal(str):
    """A multi-line string PyYAML writes as a ``|`` block, so user data stays readable."""


def _literal(dumper: yaml.SafeDumper, value: _Literal) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="|")


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Literal, _literal)


def dump_yaml(doc: Any) -> str:
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=False)


def _block(text: str) -> _Literal:
    return _Literal(text if text.endswith("\n") else text + "\n")


def nodeconfig_doc(fragment: str) -> dict[str, Any]:
    """The NodeConfig part: only containerd and kubelet flags, no cluster details (those come
    from the launch template, EKS or Karpenter, and nodeadm merges the parts)."""
    return {
        "apiVersion": NODEADM_API,
        "kind": "NodeConfig",
        "spec": {
            "containerd": {"config": _block(fragment)},
            "kubelet": {
                "flags": [f"--image-credential-provider-config={credprovider.CONFIG_PATH}"]
            },
        },
    }


def cloud_config(files: Sequence[NodeFile]) -> str:
    doc = {
        "write_files": [
            {
                "path": f.path,
                "owner": "root:root",
                "permissions": f.mode,
                "content": _block(f.content),
            }
            for f in files
        ]
    }
    return "#cloud-config\n" + dump_yaml(doc)


def al2023_user_data(files: Sequence[NodeFile], fragment: str) -> str:
    """MIME multi-part user data: the NodeConfig, then the cloud-config writing ``files``."""
    outer = MIMEMultipart("mixed", boundary=BOUNDARY)
    parts = (
        ("application", "node.eks.aws", "---\n" + dump_yaml(nodeconfig_doc(fragment))),
        ("text", "cloud-config", cloud_config(files)),
    )
    for maintype, subtype, body in parts:
        if BOUNDARY in body:
            raise ValueError("the MIME boundary occurs in a part")
        part = MIMENonMultipart(maintype, subtype, charset="us-ascii")
        del part["MIME-Version"]
        part.set_payload(body)
        outer.attach(part)
    return outer.as_string()


def bottlerocket_doc(plan: MirrorPlan) -> dict[str, Any]:
    return {
        "settings": {
            "container-registry": {
                "mirrors": [
                    {"registry": m.namespace, "endpoint": [m.mirror_url]} for m in plan.mirrors
                ]
            },
            "kubernetes": {
                "credential-providers": {
                    credprovider.PROVIDER: {
                        "enabled": True,
                        "cache-duration": credprovider.CACHE_DURATION,
                        "image-patterns": credprovider.image_patterns(plan),
                        "environment": {"AWS_REGION": plan.region},
                    }
                }
            },
        }
    }


def bottlerocket_settings(plan: MirrorPlan) -> str:
    head = "# Bottlerocket user data (settings TOML) generated by ecrcache node-config\n"
    return head + tomli_w.dumps(bottlerocket_doc(plan))


def ec2nodeclass_doc(user_data: str, *, family: str, name: str, cluster: str) -> dict[str, Any]:
    """An EC2NodeClass with the node-type's user data. Role and selectors follow Karpenter's
    getting-started names for ``cluster``: adjust them to yours."""
    alias = {"AL2023": "al2023@latest", "Bottlerocket": "bottlerocket@latest"}[family]
    return {
        "apiVersion": KARPENTER_API,
        "kind": "EC2NodeClass",
        "metadata": {"name": name},
        "spec": {
            "amiFamily": family,
            "amiSelectorTerms": [{"alias": alias}],
            "role": f"KarpenterNodeRole-{cluster}",
            "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": cluster}}],
            "securityGroupSelectorTerms": [{"tags": {"karpenter.sh/discovery": cluster}}],
            "userData": _block(user_data),
        },
    }


def ec2nodeclass(user_data: str, *, family: str, name: str, cluster: str) -> str:
    doc = ec2nodeclass_doc(user_data, family=family, name=name, cluster=cluster)
    return "---\n" + dump_yaml(doc)
