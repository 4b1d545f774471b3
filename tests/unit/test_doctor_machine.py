"""Machine checks on files in a temporary directory: docker CLI and login, Docker daemon
mirrors, containerd hosts.toml. Each fails, then passes once its printed fix is applied."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest

from ecrcache.doctor.checks import CHECKS, by_id
from ecrcache.doctor.context import Context
from ecrcache.doctor.env import Env, MachinePaths
from ecrcache.doctor.fixes import Commands
from ecrcache.doctor.model import CheckResult, Status
from ecrcache.doctor.runner import run_checks

HOST = "123456789012.dkr.ecr.af-south-1.amazonaws.com"
ECR_MIRROR = f"https://{HOST}/v2/docker-hub"


def context() -> Context:
    return Context(
        region="af-south-1",
        region_source="test",
        profile=None,
        profile_source="not set",
        credential_source="test",
        account_id="123456789012",
        caller_arn=None,
        registry_url=f"https://{HOST}",
        endpoint_url=None,
        config_path="ecrcache.toml",
        sandbox=False,
    )


def env_for(tmp_path: Path, **paths: object) -> Env:
    defaults: dict[str, object] = {
        "docker_config": tmp_path / "docker" / "config.json",
        "daemon_json": tmp_path / "etc/docker/daemon.json",
        "containerd_certs": tmp_path / "etc/containerd/certs.d",
        "containerd_config": tmp_path / "etc/containerd/config.toml",
    }
    defaults.update(paths)
    return Env(
        context=context(),
        commands=Commands(region="af-south-1"),
        paths=MachinePaths(**defaults),  # type: ignore[arg-type]
        registry_url=f"https://{HOST}",
    )


def result(env: Env, check_id: str) -> CheckResult:
    (r,) = run_checks(CHECKS, [by_id(check_id)], env).results
    return r


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def ecr_password(expires_in: float) -> str:
    """A password shaped like ECR's (base64 JSON with an expiration epoch)."""
    body = {
        "payload": "x",
        "datakey": "y",
        "version": "2",
        "expiration": int(time.time() + expires_in),
    }
    return base64.b64encode(json.dumps(body).encode()).decode()


def auths(password: str) -> str:
    auth = base64.b64encode(f"AWS:{password}".encode()).decode()
    return json.dumps({"auths": {HOST: {"auth": auth}}})


# --- docker.cli -----------------------------------------------------------------------------


def test_docker_cli(tmp_path: Path) -> None:
    missing = env_for(tmp_path, which=lambda name: None)
    r = result(missing, "docker.cli")
    assert r.status is Status.WARN and "not on PATH" in r.finding
    assert r.fix is not None and "install the Docker CLI" in r.fix.summary
    installed = env_for(tmp_path, which=lambda name: f"/usr/bin/{name}")  # the fix, applied
    assert result(installed, "docker.cli").status is Status.PASS


# --- docker.login ---------------------------------------------------------------------------


def test_docker_login_missing_then_logged_in(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    r = result(env, "docker.login")
    assert r.status is Status.WARN and f"no login for {HOST}" in r.finding
    assert r.fix is not None and r.fix.commands == ("ecrcache login",)
    write(env.paths.docker_config, auths(ecr_password(11 * 3600)))  # what `ecrcache login` writes
    ok = result(env, "docker.login")
    assert ok.status is Status.PASS and "valid until" in ok.finding


def test_docker_login_expired(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    password = ecr_password(-60)
    write(env.paths.docker_config, auths(password))
    r = result(env, "docker.login")
    assert r.status is Status.WARN and "expired at" in r.finding
    assert password not in repr(r) and "AWS:" not in repr(r)


def test_docker_login_cred_helper(tmp_path: Path) -> None:
    config = json.dumps({"credHelpers": {HOST: "ecr-login"}})
    no_helper = env_for(tmp_path, which=lambda name: None)
    write(no_helper.paths.docker_config, config)
    r = result(no_helper, "docker.login")
    assert (
        r.status is Status.WARN and "docker-credential-ecr-login, which is not on PATH" in r.finding
    )
    with_helper = env_for(tmp_path, which=lambda name: f"/usr/bin/{name}")
    assert result(with_helper, "docker.login").status is Status.PASS


def test_docker_login_creds_store(tmp_path: Path) -> None:
    listing = {"https://index.docker.io/v1/": "me"}

    def run(argv: list[str], **_: object) -> object:
        assert argv[1:] == ["list"]

        class Done:
            stdout = json.dumps(listing).encode()

        return Done()

    env = env_for(tmp_path, which=lambda name: f"/usr/bin/{name}", run=run)
    write(env.paths.docker_config, json.dumps({"credsStore": "desktop", "auths": {}}))
    r = result(env, "docker.login")
    assert (
        r.status is Status.WARN
        and "no login for" in r.finding
        and "docker-credential-desktop" in r.finding
    )
    listing[f"https://{HOST}"] = "AWS"  # after `ecrcache login` (docker login stores it there)
    assert result(env, "docker.login").status is Status.PASS


def test_docker_login_bad_json(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    write(env.paths.docker_config, "{not json")
    r = result(env, "docker.login")
    assert r.status is Status.WARN and "not valid JSON" in r.finding


# --- docker.mirror --------------------------------------------------------------------------


def test_docker_mirror(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    assert result(env, "docker.mirror").status is Status.SKIP
    daemon = write(
        env.paths.daemon_json,
        json.dumps({"registry-mirrors": [f"https://{HOST}", "https://mirror.gcr.io"]}),
    )
    r = result(env, "docker.mirror")
    assert r.status is Status.FAIL and f"https://{HOST}" in r.finding
    assert r.fix is not None and f'remove https://{HOST} from "registry-mirrors"' in r.fix.summary
    # the fix: remove that entry (and restart dockerd)
    doc = json.loads(daemon.read_text())
    doc["registry-mirrors"].remove(f"https://{HOST}")
    daemon.write_text(json.dumps(doc))
    ok = result(env, "docker.mirror")
    assert ok.status is Status.PASS and "1 mirror(s), none at ECR" in ok.finding


def test_docker_mirror_invalid_json(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    write(env.paths.daemon_json, "[1, 2")
    assert result(env, "docker.mirror").status is Status.FAIL


# --- containerd.mirror ----------------------------------------------------------------------

HOSTS_TOML = f"""server = "https://registry-1.docker.io"

[host."{ECR_MIRROR}"]
  capabilities = ["pull", "resolve"]
  override_path = true
"""


def test_containerd_mirror_without_credentials(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    assert result(env, "containerd.mirror").status is Status.SKIP
    hosts = write(env.paths.containerd_certs / "docker.io" / "hosts.toml", HOSTS_TOML)
    r = result(env, "containerd.mirror")
    assert r.status is Status.FAIL and "no credentials for this host" in r.details[0]
    assert r.fix is not None and 'remove these [host."..."] tables' in r.fix.summary
    hosts.write_text('server = "https://registry-1.docker.io"\n')  # the fix: table removed
    assert result(env, "containerd.mirror").status is Status.PASS


def test_containerd_mirror_without_prefix_path(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    write(
        env.paths.containerd_certs / "docker.io" / "hosts.toml",
        f'[host."https://{HOST}"]\n  capabilities = ["pull"]\n  [host."https://{HOST}".header]\n'
        '    Authorization = ["Basic QVdTOnNlY3JldA=="]\n',
    )
    r = result(env, "containerd.mirror")
    assert r.status is Status.FAIL and "override_path" in r.details[0]
    assert "QVdT" not in repr(r)  # a header's value is never shown


def test_containerd_mirror_static_header_warns(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    write(
        env.paths.containerd_certs / "docker.io" / "hosts.toml",
        HOSTS_TOML + f'  [host."{ECR_MIRROR}".header]\n    Authorization = ["Basic eA=="]\n',
    )
    r = result(env, "containerd.mirror")
    assert r.status is Status.WARN and "expire after 12 hours" in r.finding


def test_containerd_mirror_auth_in_config_toml(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    write(env.paths.containerd_certs / "docker.io" / "hosts.toml", HOSTS_TOML)
    write(
        env.paths.containerd_config,
        f'[plugins."io.containerd.grpc.v1.cri".registry.configs."{HOST}".auth]\n'
        'username = "AWS"\npassword = "x"\n',
    )
    assert result(env, "containerd.mirror").status is Status.WARN  # static: expires


def test_containerd_mirror_not_ecr(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    write(
        env.paths.containerd_certs / "docker.io" / "hosts.toml",
        '[host."https://mirror.gcr.io"]\n  capabilities = ["pull"]\n',
    )
    assert result(env, "containerd.mirror").status is Status.PASS


@pytest.mark.parametrize(
    ("host", "ecr"),
    [
        (HOST, True),
        ("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", True),
        ("123456789012.dkr-ecr.eu-west-1.on.aws", True),
        ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", True),
        ("public.ecr.aws", False),
        ("mirror.gcr.io", False),
    ],
)
def test_is_ecr(host: str, ecr: bool) -> None:
    from ecrcache.doctor.files import is_ecr

    assert is_ecr(f"https://{host}/v2/x") is ecr and is_ecr(host) is ecr
