"""The --sandbox runtime: persistence, isolation from the user's AWS setup, bad state files."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from ecrcache.errors import SandboxError
from ecrcache.sandbox import runtime, statefile
from ecrcache.sandbox.pulls import simulate_pull
from ecrcache.sandbox.runtime import (
    SANDBOX_ACCOUNT_ID,
    default_state_path,
    open_sandbox,
    reset_sandbox,
    sandbox_status,
)

REGION = "af-south-1"
SECRET = json.dumps({"username": "u", "accessToken": "t"})


def _populate(state: Path) -> str:
    with open_sandbox(region=REGION, state_path=state) as session:
        arn = session.client("secretsmanager").create_secret(
            Name="ecr-pullthroughcache/docker-hub", SecretString=SECRET
        )["ARN"]
        ecr = session.client("ecr")
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="docker-hub",
            upstreamRegistryUrl="registry-1.docker.io",
            credentialArn=arn,
        )
        ecr.create_repository_creation_template(
            prefix="docker-hub", appliedFor=["PULL_THROUGH_CACHE"], imageTagMutability="IMMUTABLE"
        )
        session.client("iam").create_role(RoleName="ci", AssumeRolePolicyDocument="{}")
        simulate_pull(
            account_id=SANDBOX_ACCOUNT_ID, region=REGION, repository="docker-hub/library/nginx"
        )
    return str(arn)


def test_state_survives_between_two_uses(aws_env: Path) -> None:
    arn = _populate(aws_env)
    assert aws_env.exists() and aws_env.stat().st_mode & 0o777 == 0o600
    with open_sandbox(region=REGION, state_path=aws_env) as session:
        ecr = session.client("ecr")
        rule = ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"][0]
        assert rule["credentialArn"] == arn
        assert ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="docker-hub")["isValid"]
        templates = ecr.describe_repository_creation_templates()["repositoryCreationTemplates"]
        assert [t["prefix"] for t in templates] == ["docker-hub"]
        repo = ecr.describe_repositories()["repositories"][0]
        assert (repo["repositoryName"], repo["imageTagMutability"]) == (
            "docker-hub/library/nginx",
            "IMMUTABLE",
        )
        image = ecr.describe_images(repositoryName="docker-hub/library/nginx")["imageDetails"][0]
        assert "lastRecordedPullTime" in image
        roles = [r["RoleName"] for r in session.client("iam").list_roles()["Roles"]]
        assert sorted(roles) == ["ci", "eks-node"]  # eks-node: a new sandbox's (sandbox/seed.py)
        # The ECR lock moto keeps was recreated: a scanning configuration update still works.
        ecr.put_registry_scanning_configuration(scanType="BASIC", rules=[])
    assert sandbox_status(aws_env).rules == 1


def test_state_is_saved_when_the_body_raises(aws_env: Path) -> None:
    with pytest.raises(RuntimeError), open_sandbox(region=REGION, state_path=aws_env) as s:
        s.client("ecr").create_pull_through_cache_rule(
            ecrRepositoryPrefix="quay", upstreamRegistryUrl="quay.io"
        )
        raise RuntimeError("apply stopped part-way")
    assert sandbox_status(aws_env).rules == 1


def test_regions_are_separate_but_both_kept(aws_env: Path) -> None:
    for region in ("af-south-1", "eu-west-1"):
        with open_sandbox(region=region, state_path=aws_env) as s:
            s.client("ecr").create_pull_through_cache_rule(
                ecrRepositoryPrefix=f"quay-{region}", upstreamRegistryUrl="quay.io"
            )
    with open_sandbox(region="eu-west-1", state_path=aws_env) as s:
        rules = s.client("ecr").describe_pull_through_cache_rules()["pullThroughCacheRules"]
        assert [r["ecrRepositoryPrefix"] for r in rules] == ["quay-eu-west-1"]
    assert sandbox_status(aws_env).rules == 2


def test_user_aws_settings_are_ignored_and_restored(
    aws_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.write_text("[profile real]\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "does-not-exist")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    with open_sandbox(region=REGION, state_path=aws_env) as s:
        identity = s.client("sts").get_caller_identity()
        assert identity["Account"] == SANDBOX_ACCOUNT_ID
        assert s.region_name == REGION
        assert "AWS_PROFILE" not in os.environ
    assert os.environ["AWS_PROFILE"] == "does-not-exist"
    assert os.environ["AWS_CONFIG_FILE"] == str(config)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not an ecrcache state file"),
        (b"garbage", "not an ecrcache state file"),
        (statefile.MAGIC + b"\x80\x05truncated", "corrupt"),
        (statefile.MAGIC + pickle.dumps({"format": 99}), "unknown format"),
        (
            statefile.MAGIC + pickle.dumps({"format": 1, "moto": "0.0.1", "backends": {}}),
            "written with moto 0.0.1",
        ),
    ],
)
def test_bad_state_is_a_one_line_sandbox_error_and_left_alone(
    aws_env: Path, content: bytes, message: str
) -> None:
    aws_env.parent.mkdir(parents=True)
    aws_env.write_bytes(content)
    with pytest.raises(SandboxError) as exc, open_sandbox(region=REGION, state_path=aws_env):
        pytest.fail("the body must not run")
    assert message in exc.value.message and "\n" not in exc.value.message
    assert exc.value.hint is not None and "ecrcache sandbox reset" in exc.value.hint
    assert aws_env.read_bytes() == content
    with pytest.raises(SandboxError):
        sandbox_status(aws_env)


def test_reset_deletes_the_state(aws_env: Path) -> None:
    _populate(aws_env)
    assert reset_sandbox(aws_env) is True
    assert not aws_env.exists()
    assert reset_sandbox(aws_env) is False
    with open_sandbox(region=REGION, state_path=aws_env) as s:
        assert s.client("ecr").describe_pull_through_cache_rules()["pullThroughCacheRules"] == []


def test_default_state_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ECRCACHE_SANDBOX_STATE", str(tmp_path / "explicit"))
    assert default_state_path() == tmp_path / "explicit"
    monkeypatch.delenv("ECRCACHE_SANDBOX_STATE")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert default_state_path() == tmp_path / "xdg" / "ecrcache" / "sandbox.state"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_state_path() == tmp_path / "home" / ".local/state/ecrcache/sandbox.state"


def test_missing_moto_is_a_sandbox_error_with_the_install_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "moto", None)  # makes `import moto` raise ImportError
    with pytest.raises(SandboxError) as exc, open_sandbox(region=REGION):
        pytest.fail("the body must not run")
    assert exc.value.hint == "pip install 'ecrcache[sandbox]'"


def test_a_second_process_waits_for_the_lock(
    aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime, "_LOCK_TIMEOUT_S", 0.2)
    code = (
        "import sys; from pathlib import Path; from ecrcache.sandbox.runtime import open_sandbox\n"
        "from ecrcache.errors import SandboxError\n"
        "try:\n"
        f"    with open_sandbox(region='{REGION}', state_path=Path(sys.argv[1])): pass\n"
        "except SandboxError as e: print(e.message)\n"
    )
    with open_sandbox(region=REGION, state_path=aws_env):
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        # The child has its own (30 s) timeout; kill it after 3 s: it must still be waiting.
        proc = subprocess.Popen(
            [sys.executable, "-c", code, str(aws_env)], env=env, stdout=subprocess.PIPE, text=True
        )
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=3)
        proc.kill()
        proc.wait()
    # And within one process, a held lock times out with a clear message.
    with runtime._locked(aws_env), pytest.raises(SandboxError, match="in use"):  # noqa: SIM117
        with runtime._locked(aws_env):
            pass
