"""The kubelet credential provider config that gets ECR tokens for the mirrored hosts.

containerd sends a registry's credentials to that registry's own host only, so a mirror at
ECR would get none (doctor/files.py). The CRI path is different: kubelet asks its credential
provider for the *image's* host (``docker.io``), and passes the answer with the pull request;
containerd's CRI plugin uses those credentials for every host it tries, mirrors included,
because kubelet sets no ``ServerAddress`` (containerd ``ParseAuth``: it only filters when one
is set). kops PR #16593 ships exactly this: the mirrored hosts added to the provider's
``matchImages``. It needs ``ecr-credential-provider`` v1.29.0 or later: earlier releases
refused any image host that is not an ECR host (kops PR #16593; cloud-provider-aws#668). For a
non-ECR host the provider calls GetAuthorizationToken in the SDK's default region, so the config
sets ``AWS_REGION``; the token is good for every registry the node's role may use (ECR user
guide, registry_auth).
"""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any
from urllib.parse import urlsplit

from ecrcache.node.mirrors import MirrorPlan

PROVIDER = "ecr-credential-provider"
MIN_PROVIDER_VERSION = (1, 29, 0)
CONFIG_API = "kubelet.config.k8s.io/v1"
PROVIDER_API = "credentialprovider.kubelet.k8s.io/v1"
CACHE_DURATION = "12h"  # ECR tokens last 12 hours; nodeadm's own config uses the same
CONFIG_PATH = "/etc/eks/image-credential-provider/ecrcache-config.json"

# nodeadm's own patterns (amazon-eks-ami nodeadm/internal/kubelet/
# image-credential-provider.template.json), kept so ECR images (add-ons, your own) still work.
ECR_PATTERNS = (
    "*.dkr.ecr.*.amazonaws.com",
    "*.dkr-ecr.*.on.aws",
    "*.dkr.ecr.*.amazonaws.com.cn",
    "*.dkr-ecr.*.on.amazonwebservices.com.cn",
    "*.dkr.ecr-fips.*.amazonaws.com",
    "*.dkr-ecr-fips.*.on.aws",
    "*.dkr.ecr.*.c2s.ic.gov",
    "*.dkr.ecr.*.sc2s.sgov.gov",
    "*.dkr.ecr.*.cloud.adc-e.uk",
    "*.dkr.ecr.*.amazonaws.eu",
)


def image_patterns(plan: MirrorPlan) -> list[str]:
    """The cache registry, ECR's own hosts, then every mirrored upstream host."""
    out = [plan.registry, *ECR_PATTERNS]
    for m in plan.mirrors:
        if not any(matches(p, m.namespace) for p in out):
            out.append(m.namespace)
    return out


def provider_config_doc(plan: MirrorPlan) -> dict[str, Any]:
    return {
        "apiVersion": CONFIG_API,
        "kind": "CredentialProviderConfig",
        "providers": [
            {
                "name": PROVIDER,
                "apiVersion": PROVIDER_API,
                "matchImages": image_patterns(plan),
                "defaultCacheDuration": CACHE_DURATION,
                "env": [{"name": "AWS_REGION", "value": plan.region}],
            }
        ],
    }


def provider_config(plan: MirrorPlan) -> str:
    return json.dumps(provider_config_doc(plan), indent=2) + "\n"


def matches(pattern: str, image: str) -> bool:
    """kubelet's ``matchImages`` rule (KEP-2133; k8s.io/kubernetes pkg/credentialprovider
    URLsMatchStr): same number of host labels, each matched as a glob (``*`` stays inside one
    label, so ``*.io`` does not match ``a.b.io``); a port in the pattern must match; the
    pattern's path must be a prefix of the image's."""
    p, i = _split(pattern), _split(image)
    p_labels, i_labels = p.hostname_labels, i.hostname_labels
    if len(p_labels) != len(i_labels):
        return False
    if not all(fnmatch.fnmatchcase(il, pl) for pl, il in zip(p_labels, i_labels, strict=True)):
        return False
    if p.port and p.port != i.port:
        return False
    return i.path.startswith(p.path)


class _Parts:
    def __init__(self, host: str, port: str, path: str) -> None:
        self.hostname_labels = host.lower().split(".")
        self.port = port
        self.path = path


def _split(value: str) -> _Parts:
    u = urlsplit(value if "://" in value else f"https://{value}")
    netloc = u.netloc
    host, _, port = netloc.partition(":")
    return _Parts(host, port, u.path)


def parse_version(text: str) -> tuple[int, ...] | None:
    """``v1.31.2`` (or a line holding it) as a tuple; None when there is no version."""
    m = re.search(r"v?(\d+)\.(\d+)\.(\d+)", text)
    return tuple(int(g) for g in m.groups()) if m else None
