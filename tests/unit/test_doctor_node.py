"""doctor --node on node filesystems in a temporary directory: each check fails on the
breakage it exists for, naming it, and passes on what node-config generates."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ecrcache.config.loading import load_config
from ecrcache.doctor.checks_node import CHECKS
from ecrcache.doctor.context import Context
from ecrcache.doctor.env import Env, MachinePaths
from ecrcache.doctor.fixes import Commands
from ecrcache.doctor.model import CheckResult, Status
from ecrcache.doctor.runner import run_checks
from ecrcache.node.bundle import build_bundle

ACCOUNT = "123456789012"
HOST = f"{ACCOUNT}.dkr.ecr.af-south-1.amazonaws.com"
CONFIG = f"""
version = 1
region = "af-south-1"
account_id = "{ACCOUNT}"
[rules.docker-hub]
upstream = "docker-hub"
[rules.docker-hub.credentials]
secret = "ecr-pullthroughcache/hub"
[rules.quay]
upstream = "quay"
"""
V3_MAIN = 'version = 3\nimports = ["/etc/containerd/config.d/*.toml"]\n'


def node_root(tmp_path: Path, *, no_fallback: bool = False, version: int = 3) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    cfg_path = tmp_path / "ecrcache.toml"
    cfg_path.write_text(CONFIG)
    bundle = build_bundle(
        load_config(cfg_path),
        account_id=ACCOUNT,
        no_fallback=no_fallback,
        containerd_config_version=version,
    )
    root = tmp_path / "node"
    for f in bundle.files:
        target = root / f.path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f.content)
    main = V3_MAIN if version == 3 else V3_MAIN.replace("version = 3", "version = 2")
    (root / "etc/containerd/config.toml").write_text(main)
    return root


def env_for(tmp_path: Path, root: Path, **kw: Any) -> Env:
    ctx = Context(
        region="af-south-1",
        region_source="test",
        profile=None,
        profile_source="not set",
        credential_source="test",
        account_id=ACCOUNT,
        caller_arn=None,
        registry_url=f"https://{HOST}",
        endpoint_url=None,
        config_path="ecrcache.toml",
        sandbox=False,
    )
    paths = MachinePaths(docker_config=tmp_path / "docker.json", **kw)
    return Env(
        context=ctx,
        commands=Commands(region="af-south-1"),
        paths=paths,
        config=load_config(tmp_path / "ecrcache.toml"),
        root=root,
    )


def results(env: Env) -> dict[str, CheckResult]:
    return {r.id: r for r in run_checks(CHECKS, CHECKS, env).results}


def text(r: CheckResult) -> str:
    return " ".join([r.finding, *r.details])


@pytest.mark.parametrize("version", [2, 3])
def test_generated_files_pass(tmp_path: Path, version: int) -> None:
    root = node_root(tmp_path, version=version)
    got = results(env_for(tmp_path, root))
    assert {k: r.status for k, r in got.items()} == {
        "node.containerd": Status.PASS,
        "node.config_path": Status.PASS,
        "node.hosts": Status.PASS,
        "node.fallback": Status.PASS,
        "node.credprovider": Status.PASS,
        "node.credprovider_version": Status.SKIP,  # programs are not run under --root
    }


def test_config_path_in_the_other_table_is_named(tmp_path: Path) -> None:
    root = node_root(tmp_path)
    (root / "etc/containerd/config.d/ecrcache.toml").write_text(
        '[plugins."io.containerd.grpc.v1.cri".registry]\nconfig_path = "/etc/containerd/certs.d"\n'
    )
    r = results(env_for(tmp_path, root))["node.config_path"]
    assert r.status is Status.FAIL
    assert "io.containerd.grpc.v1.cri" in r.finding and "version 3 ignores" in r.finding
    assert r.fix is not None and "io.containerd.cri.v1.images" in (r.fix.config or "")


def test_mirrors_beside_config_path_are_refused(tmp_path: Path) -> None:
    root = node_root(tmp_path)
    with (root / "etc/containerd/config.d/ecrcache.toml").open("a") as f:
        f.write(
            '[plugins."io.containerd.cri.v1.images".registry.mirrors."docker.io"]\n'
            'endpoint = ["https://mirror.example"]\n'
        )
    r = results(env_for(tmp_path, root))["node.config_path"]
    assert r.status is Status.FAIL and "containerd#12612" in r.finding


def test_config_path_elsewhere_and_the_transfer_service(tmp_path: Path) -> None:
    root = node_root(tmp_path)
    frag = root / "etc/containerd/config.d/ecrcache.toml"
    frag.write_text(
        'version = 3\n[plugins."io.containerd.cri.v1.images".registry]\n'
        'config_path = "/etc/docker/certs.d"\n'
    )
    r = results(env_for(tmp_path, root))["node.config_path"]
    assert r.status is Status.FAIL and "holds no hosts.toml" in r.finding
    frag.write_text(
        'version = 3\n[plugins."io.containerd.cri.v1.images".registry]\n'
        'config_path = "/etc/containerd/certs.d:/etc/docker/certs.d"\n'
    )
    r = results(env_for(tmp_path, root))["node.config_path"]
    assert r.status is Status.WARN and "containerd#12415" in r.finding


def test_missing_file_and_other_host(tmp_path: Path) -> None:
    root = node_root(tmp_path)
    (root / "etc/containerd/certs.d/quay.io/hosts.toml").unlink()
    hub = root / "etc/containerd/certs.d/docker.io/hosts.toml"
    hub.write_text(hub.read_text().replace(HOST, "mirror.example"))
    r = results(env_for(tmp_path, root))["node.hosts"]
    assert r.status is Status.FAIL
    assert "2 of 2" in r.finding and "docker.io" in r.finding and "quay.io" in r.finding
    assert "mirror.example" in text(r) and "no hosts.toml" in text(r)
    assert r.fix is not None and "node-config" in r.fix.commands[0]


def test_no_fallback_is_checked_when_asked(tmp_path: Path) -> None:
    root = node_root(tmp_path)
    env = env_for(tmp_path, root)
    env.no_fallback = True
    r = results(env)["node.fallback"]
    assert r.status is Status.FAIL and "fall back" in r.finding
    assert "docker.io: falls back to https://registry-1.docker.io" in r.details
    env = env_for(tmp_path / "nf", node_root(tmp_path / "nf", no_fallback=True))
    env.no_fallback = True
    assert results(env)["node.fallback"].status is Status.PASS


def test_credential_provider_must_cover_the_mirrored_hosts(tmp_path: Path) -> None:
    root = node_root(tmp_path)
    path = root / "etc/eks/image-credential-provider/ecrcache-config.json"
    doc = json.loads(path.read_text())
    doc["providers"][0]["matchImages"] = ["*.dkr.ecr.*.amazonaws.com"]  # nodeadm's kind
    path.write_text(json.dumps(doc))
    r = results(env_for(tmp_path, root))["node.credprovider"]
    assert r.status is Status.FAIL and "docker.io, quay.io" in r.finding
    path.unlink()
    r = results(env_for(tmp_path, root))["node.credprovider"]
    assert r.status is Status.FAIL and "no kubelet credential provider config" in r.finding


def fake_run(outputs: dict[str, str]) -> Any:
    def run(argv: list[str], **_: Any) -> subprocess.CompletedProcess[bytes]:
        name = Path(argv[0]).name
        return subprocess.CompletedProcess(argv, 0, outputs[name].encode(), b"")

    return run


@pytest.mark.parametrize(
    ("containerd", "version", "ok"),
    [
        ("containerd github.com/containerd/containerd 1.6.20~ds1", 2, True),
        ("containerd github.com/containerd/containerd 1.6.20~ds1", 3, False),
        ("containerd github.com/containerd/containerd/v2 v2.1.4 75cb2b7", 2, True),
        ("containerd github.com/containerd/containerd 1.4.13", 2, False),
    ],
)
def test_containerd_version_against_config_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, containerd: str, version: int, ok: bool
) -> None:
    root = node_root(tmp_path, version=version)
    env = env_for(
        tmp_path,
        root,
        which=lambda name: f"/usr/bin/{name}",
        run=fake_run({"containerd": containerd}),
    )
    # the version is only read on the machine itself: pretend root is "/"
    monkeypatch.setattr("ecrcache.doctor.checks_node._on_machine", lambda env: True)
    r = results(env)["node.containerd"]
    assert (r.status is Status.PASS) is ok, r.finding


def test_plain_doctor_accepts_mirrors_kubelet_gives_credentials(tmp_path: Path) -> None:
    """``containerd.mirror`` (plain doctor) on a node-config node: the hosts.toml files carry no
    credentials, kubelet's credential provider supplies them for CRI pulls."""
    from ecrcache.doctor.checks import CHECKS as ALL
    from ecrcache.doctor.checks import by_id

    root = node_root(tmp_path)
    env = env_for(
        tmp_path,
        root,
        containerd_certs=root / "etc/containerd/certs.d",
        containerd_config=root / "etc/containerd/config.toml",
    )
    env.registry_url = f"https://{HOST}"
    (r,) = run_checks(ALL, [by_id("containerd.mirror")], env).results
    assert r.status is Status.PASS, r.details
    assert any("kubelet's credential provider" in d for d in r.details)
    (root / "etc/eks/image-credential-provider/ecrcache-config.json").unlink()
    (r,) = run_checks(ALL, [by_id("containerd.mirror")], env).results
    assert r.status is Status.FAIL and "no credentials for this host" in " ".join(r.details)
