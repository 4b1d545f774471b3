"""The generated hosts.toml files, used by a real containerd, pull images by their original
names through a registry standing in for ECR, with every upstream unreachable.

What stands in for what, and what the test changes in the generated files (nothing else):
- the ECR host: a local distribution registry with htpasswd basic auth, holding images under
  the cache prefixes (``docker-hub/library/...``, ``quay/...``, ``github/...``), as ECR stores
  them. Each ``[host."https://<account>.dkr.ecr.<region>.amazonaws.com/v2/<prefix>"]`` line is
  rewritten to ``http://127.0.0.1:<port>/v2/<prefix>``: the path, ``override_path`` and
  capabilities stay as generated.
- the fallback: ``server`` is rewritten to a closed loopback port, and ctr runs with HTTP(S)
  proxies at a closed port, so no pull can succeed through the upstream and hide a wrong file.
- credentials: on a node kubelet's credential provider supplies them (see node/credprovider.py);
  here a ``[host."...".header]`` Authorization entry is added to each file, so the password never
  appears in a process argument (not ``ctr --user``).
"""

from __future__ import annotations

import base64
import json
import tomllib
from pathlib import Path

import pytest
import tomli_w
from containerd_support import Containerd
from regsupport import PASSWORD, USER, RegistryServer, free_port, make_multiarch, push_multiarch

from ecrcache.cli.app import run

ACCOUNT = "123456789012"
ECR = f"https://{ACCOUNT}.dkr.ecr.af-south-1.amazonaws.com"
PLATFORMS = ("linux/amd64", "linux/arm64")

CONFIG = f"""
version = 1
region = "af-south-1"
account_id = "{ACCOUNT}"

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
"""

# original name -> (cache repository, tag)
IMAGES = {
    "docker.io/library/alpine:3.19": ("docker-hub/library/alpine", "3.19"),
    "quay.io/prometheus/node-exporter:v1.8.0": ("quay/prometheus/node-exporter", "v1.8.0"),
    "ghcr.io/acme/tool:1.0": ("github/acme/tool", "1.0"),
}


def generate(tmp_path: Path, *extra: str) -> Path:
    """``ecrcache node-config --out`` into tmp_path/node; returns the certs.d directory."""
    config = tmp_path / "ecrcache.toml"
    config.write_text(CONFIG)
    out = tmp_path / "node"
    assert run(["-c", str(config), "node-config", "--out", str(out), *extra]) == 0
    # the node's own config.toml imports the generated fragment (as the README says to)
    (out / "etc/containerd/config.toml").write_text(
        'version = 3\nimports = ["/etc/containerd/config.d/*.toml"]\n'
    )
    return out / "etc/containerd/certs.d"


def doctor_node(
    config: Path, root: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict]:
    capsys.readouterr()
    code = run(["-c", str(config), "-o", "json", "doctor", "--node", "--root", str(root), *extra])
    return code, json.loads(capsys.readouterr().out)["data"]


def point_at_standin(certs: Path, registry: RegistryServer) -> None:
    """The test's edits (module docstring): ECR host -> local registry, server -> closed port,
    plus an Authorization header."""
    closed = f"http://127.0.0.1:{free_port()}"
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    for f in certs.glob("*/hosts.toml"):
        doc = tomllib.loads(f.read_text())
        hosts = {}
        for url, table in doc["host"].items():
            assert url.startswith(ECR + "/v2/"), url
            table = dict(table, header={"Authorization": f"Basic {basic}"})
            hosts[registry.url + url[len(ECR) :]] = table
        doc["host"] = hosts
        doc["server"] = closed
        f.write_text(tomli_w.dumps(doc))


@pytest.fixture
def pushed(ecr_standin: RegistryServer) -> dict[str, object]:
    client = ecr_standin.client()
    made = {}
    for ref, (repo, tag) in IMAGES.items():
        image = make_multiarch(list(PLATFORMS), [2048, 1024])
        push_multiarch(client, repo, tag, image)
        made[ref] = image
    return made


def test_pulls_by_original_names_for_two_platforms(
    tmp_path: Path,
    containerd: Containerd,
    ecr_standin: RegistryServer,
    pushed: dict,
    capsys: pytest.CaptureFixture[str],
) -> None:
    certs = generate(tmp_path)
    assert sorted(p.name for p in certs.iterdir()) == ["docker.io", "ghcr.io", "quay.io"]
    code, report = doctor_node(tmp_path / "ecrcache.toml", tmp_path / "node", capsys)
    assert code == 0, [c for c in report["checks"] if c["status"] != "pass"]
    assert {c["id"] for c in report["checks"] if c["status"] == "pass"} >= {
        "node.containerd",
        "node.config_path",
        "node.hosts",
        "node.fallback",
        "node.credprovider",
    }
    point_at_standin(certs, ecr_standin)
    for ref, image in pushed.items():
        for platform in PLATFORMS:
            done = containerd.pull(ref, certs, platform)
            assert done.returncode == 0, f"{ref} {platform}: {done.stderr[-800:]}"
        assert containerd.image_digest(ref) == str(image.digest)
        have = containerd.content_digests()
        for img in image.images:  # both platforms' manifests and every blob arrived intact
            assert str(img.digest) in have
            assert set(img.blobs) <= have


def test_no_fallback_file_pulls_too(
    tmp_path: Path,
    containerd: Containerd,
    ecr_standin: RegistryServer,
    pushed: dict,
    capsys: pytest.CaptureFixture[str],
) -> None:
    certs = generate(tmp_path, "--no-fallback")
    doc = tomllib.loads((certs / "docker.io/hosts.toml").read_text())
    assert doc["server"] == f"{ECR}/v2/docker-hub" and doc["override_path"] is True
    config, root = tmp_path / "ecrcache.toml", tmp_path / "node"
    assert doctor_node(config, root, capsys, "--no-fallback")[0] == 0
    point_at_standin(certs, ecr_standin)
    ref = "docker.io/library/alpine:3.19"
    done = containerd.pull(ref, certs, "linux/arm64")
    assert done.returncode == 0, done.stderr[-800:]
    assert containerd.image_digest(ref) == str(pushed[ref].digest)


@pytest.mark.parametrize("breakage", ["wrong prefix", "no override_path"])
def test_a_wrong_file_fails_the_pull_and_doctor_names_it(
    tmp_path: Path,
    containerd: Containerd,
    ecr_standin: RegistryServer,
    pushed: dict,
    breakage: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    certs = generate(tmp_path)
    hosts = certs / "docker.io/hosts.toml"
    doc = tomllib.loads(hosts.read_text())
    ((url, table),) = doc["host"].items()
    if breakage == "wrong prefix":
        doc["host"] = {url.replace("/v2/docker-hub", "/v2/dockerhub"): table}
    else:
        del table["override_path"]
    hosts.write_text(tomli_w.dumps(doc))
    # doctor reads the node's files as written, before the test's own edits
    config = tmp_path / "ecrcache.toml"
    code, report = doctor_node(config, tmp_path / "node", capsys)
    assert code == 1
    failed = {c["id"]: c for c in report["checks"] if c["status"] == "fail"}
    assert "node.hosts" in failed, report["checks"]
    text = failed["node.hosts"]["finding"] + " ".join(failed["node.hosts"]["details"])
    if breakage == "wrong prefix":
        assert "docker.io" in text and "dockerhub" in text and "docker-hub" in text
    else:
        assert "override_path" in text
    assert failed["node.hosts"]["fix"]["commands"] or failed["node.hosts"]["fix"]["summary"]

    point_at_standin(certs, ecr_standin)
    done = containerd.pull("docker.io/library/alpine:3.19", certs, "linux/amd64")
    assert done.returncode != 0
    assert containerd.image_digest("docker.io/library/alpine:3.19") is None
