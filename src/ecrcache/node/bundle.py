"""``ecrcache node-config`` as data: every file one node type needs, and what to know about it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ecrcache.errors import UsageError
from ecrcache.node import containerd, credprovider, wrappers
from ecrcache.node.mirrors import Mirror, MirrorPlan, Skipped, plan_mirrors
from ecrcache.node.wrappers import NodeFile

if TYPE_CHECKING:
    from ecrcache.config.schema import Config

NODE_TYPES = ("files", "al2023", "bottlerocket", "karpenter-al2023", "karpenter-bottlerocket")
FRAGMENT_PATH = "/etc/containerd/config.d/ecrcache.toml"
MIN_VERSION = ".".join(str(n) for n in credprovider.MIN_PROVIDER_VERSION)


class NodeConfigError(UsageError):
    code = "node-config"


@dataclass(frozen=True)
class NodeBundle:
    node_type: str
    registry: str
    region: str
    no_fallback: bool
    containerd_config_version: int
    files: tuple[NodeFile, ...]  # what to hand over: the node's files, or one wrapper file
    node_files: tuple[NodeFile, ...]  # what ends up on the node
    mirrors: tuple[Mirror, ...]
    skipped: tuple[Skipped, ...]
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "node_type": self.node_type,
            "registry": self.registry,
            "region": self.region,
            "no_fallback": self.no_fallback,
            "containerd_config_version": self.containerd_config_version,
            "files": [{"path": f.path, "mode": f.mode, "content": f.content} for f in self.files],
            "mirrors": [
                {
                    "prefix": m.prefix,
                    "upstream": m.kind,
                    "host": m.namespace,
                    "mirror": m.mirror_url,
                    "fallback": None if self.no_fallback else m.server,
                }
                for m in self.mirrors
            ],
            "skipped": [{"prefix": s.prefix, "reason": s.reason} for s in self.skipped],
            "credential_provider": {
                "name": credprovider.PROVIDER,
                "config": credprovider.CONFIG_PATH,
                "min_version": MIN_VERSION,
            },
            "notes": list(self.notes),
        }


def node_files(plan: MirrorPlan, *, no_fallback: bool) -> list[NodeFile]:
    """The hosts.toml files and the credential provider config, as the node holds them."""
    out = [
        NodeFile(containerd.hosts_path(m), containerd.hosts_toml(m, no_fallback=no_fallback))
        for m in plan.mirrors
    ]
    out.append(NodeFile(credprovider.CONFIG_PATH, credprovider.provider_config(plan)))
    return out


def build_bundle(
    config: Config,
    *,
    account_id: str,
    region: str | None = None,
    node_type: str = "files",
    no_fallback: bool = False,
    containerd_config_version: int = 3,
    cluster: str = "my-cluster",
) -> NodeBundle:
    """Everything ``node_type`` needs. Raises NodeConfigError for a combination no node can
    honour (no mirrorable rule; ``--no-fallback`` on Bottlerocket)."""
    if node_type not in NODE_TYPES:
        raise NodeConfigError(
            f"unknown node type {node_type!r}", hint=f"one of: {', '.join(NODE_TYPES)}"
        )
    if containerd_config_version not in (2, 3):
        raise NodeConfigError(
            f"containerd config version {containerd_config_version} does not exist",
            hint="2 (containerd 1.x) or 3 (containerd 2.x)",
        )
    plan = plan_mirrors(config, account_id=account_id, region=region)
    if not plan.mirrors:
        raise NodeConfigError(
            "no rule in the config can be served as a registry mirror",
            hint="; ".join(f"{s.prefix}: {s.reason}" for s in plan.skipped)
            or "add a rule for an upstream (e.g. [rules.docker-hub])",
        )
    bottlerocket = node_type.endswith("bottlerocket")
    if bottlerocket and no_fallback:
        raise NodeConfigError(
            "Bottlerocket mirrors always fall back to the upstream registry",
            hint="drop --no-fallback for Bottlerocket (bottlerocket#4891), or block the "
            "upstreams at the network instead",
        )
    raw = node_files(plan, no_fallback=no_fallback)
    fragment = containerd.config_fragment(containerd_config_version)
    files: list[NodeFile]
    if node_type == "files":
        raw.append(NodeFile(FRAGMENT_PATH, fragment))
        files = raw
    elif bottlerocket:
        raw = []  # Bottlerocket writes its own files from the settings
        files = [NodeFile("bottlerocket-user-data.toml", wrappers.bottlerocket_settings(plan))]
    else:
        files = [NodeFile("user-data.mime", wrappers.al2023_user_data(raw, fragment))]
    if node_type.startswith("karpenter-"):
        family = "Bottlerocket" if bottlerocket else "AL2023"
        files = [
            NodeFile(
                "ec2nodeclass.yaml",
                wrappers.ec2nodeclass(
                    files[0].content,
                    family=family,
                    name=f"ecrcache-{family.lower()}",
                    cluster=cluster,
                ),
            )
        ]
    return NodeBundle(
        node_type=node_type,
        registry=plan.registry,
        region=plan.region,
        no_fallback=no_fallback,
        containerd_config_version=containerd_config_version,
        files=tuple(files),
        node_files=tuple(raw),
        mirrors=plan.mirrors,
        skipped=plan.skipped,
        notes=tuple(_notes(node_type, no_fallback, containerd_config_version)),
    )


def _notes(node_type: str, no_fallback: bool, version: int) -> list[str]:
    notes = [
        f"kubelet needs {credprovider.PROVIDER} v{MIN_VERSION} or later: older releases give "
        "no credentials for docker.io, quay.io and other non-ECR hosts",
        "the node role needs ecr:BatchImportUpstreamImage and ecr:CreateRepository on the cache "
        "prefixes for first pulls (AmazonEC2ContainerRegistryReadOnly has neither; `[pullers]` "
        "grants both)",
        "a first pull by digest alone does not fill the cache: pull the tag once "
        "(`ecrcache test-pull`) before nodes pull by digest",
    ]
    if node_type == "files":
        notes.append(
            f"{FRAGMENT_PATH} is config version {version}: merge it into "
            "/etc/containerd/config.toml (or list it under `imports`) and restart containerd"
        )
    if not no_fallback and not node_type.endswith("bottlerocket"):
        notes.append(
            "pulls fall back to the upstream when the cache fails; --no-fallback forbids that"
        )
    return notes
