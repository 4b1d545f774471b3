"""``ecrcache sandbox serve`` as a real process: the AWS CLI and ecrcache over HTTP, the state
shared with --sandbox, Ctrl-C, a busy port, and SIGKILL in the middle of a burst of writes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import pytest
from cli_support import cli

from ecrcache.sandbox import statefile
from ecrcache.sandbox.runtime import SANDBOX_ACCOUNT_ID, open_sandbox
from serve_support import (
    ServedSandbox,
    ecrcache_command,
    serve_env,
    served_sandbox,
    starting_serve,
)

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"
REGION = "af-south-1"
TIMEOUT_S = 120
KEY_ID = "AKIAANYKEYWORKS00000"


def _aws(served: ServedSandbox, *args: str) -> Any:
    """The AWS CLI (installed as a Python package) against the server; its JSON output."""
    proc = subprocess.run(
        [sys.executable, "-m", "awscli", *args, "--endpoint-url", served.endpoint],
        env=serve_env(served.state_path),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert isinstance(doc, dict)
    return doc


def _pinned_example(tmp_path: Path) -> Path:
    """config.example.toml with its account_id line in force: apply refuses any other account,
    so a success proves STS GetCallerIdentity through the server gave the sandbox's account."""
    text = EXAMPLE.read_text()
    pinned = text.replace(
        '# account_id = "123456789012"', f'account_id = "{SANDBOX_ACCOUNT_ID}"', 1
    )
    assert pinned != text
    path = tmp_path / "pinned.toml"
    path.write_text(pinned)
    return path


def test_aws_cli_and_ecrcache_over_http_then_the_same_state_for_sandbox(
    sandbox_server: ServedSandbox,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    served = sandbox_server
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)  # any key is accepted; none is logged
    assert served.port > 0 and served.endpoint == f"http://127.0.0.1:{served.port}"
    banner = "".join(served.stdout_lines)
    assert f"--endpoint-url {served.endpoint}" in banner
    rules = _aws(served, "ecr", "describe-pull-through-cache-rules")
    assert rules["pullThroughCacheRules"] == []
    assert _aws(served, "sts", "get-caller-identity")["Account"] == SANDBOX_ACCOUNT_ID
    # A new account holds the puller role the example names, as under --sandbox (ECR refuses a
    # registry policy naming a principal IAM does not know: sandbox/principal_validation).
    role = _aws(served, "iam", "get-role", "--role-name", "eks-node")["Role"]
    assert role["Arn"] == f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/eks-node"

    monkeypatch.setenv("DOCKERHUB_TOKEN", "dckr_pat_serve_test")
    monkeypatch.setenv("GHCR_TOKEN", "ghp_serve_test")
    config = _pinned_example(tmp_path)
    url = served.endpoint
    code, out, err = cli(capsys, "--endpoint-url", url, "apply", "-c", str(config), "--yes")
    assert code == 0, err
    assert "Apply complete: 12 added, 1 changed" in out
    assert "sandbox" not in err  # a real AWS endpoint as far as ecrcache knows
    code, out, err = cli(
        capsys, "--endpoint-url", url, "plan", "-c", str(config), "--detailed-exitcode"
    )
    assert code == 0, out + err
    rules = _aws(served, "ecr", "describe-pull-through-cache-rules")
    prefixes = sorted(r["ecrRepositoryPrefix"] for r in rules["pullThroughCacheRules"])
    assert prefixes == ["docker-hub", "ecr-public", "github", "k8s", "quay"]

    # Saved as it changes: the file already holds what the server acknowledged.
    code, out, _ = cli(capsys, "sandbox", "status", "-o", "json")
    data = json.loads(out)["data"]
    assert code == 0 and (data["rules"], data["served_at"]) == (5, url)
    code, out, _ = cli(capsys, "cost-report", "--actual", "-c", str(config), "--endpoint-url", url)
    assert code == 0, out  # Cost Explorer through the same endpoint
    # Meanwhile --sandbox (and reset) are refused in one line naming the endpoint to use.
    for args in (("--sandbox", "plan", "-c", str(EXAMPLE)), ("sandbox", "reset")):
        code, out, err = cli(capsys, *args)
        errors = [line for line in err.splitlines() if line.startswith("Error:")]
        assert code == 1 and errors == [
            f"Error: the sandbox state {served.state_path} is held by `ecrcache sandbox serve` "
            f"at {url}"
        ]
        assert f"--endpoint-url {url}" in err and "Traceback" not in err
    assert served.state_path.exists()

    assert served.stop(signal.SIGINT) == 0  # Ctrl-C is how a foreground server is stopped
    log = served.log()
    assert f"Stopped the sandbox server; its state is in {served.state_path}." in log
    assert "Traceback" not in log
    assert "ecr.CreatePullThroughCacheRule 200 (saved)" in log
    for call in ("sts.GetCallerIdentity", "iam.CreatePolicy", "secretsmanager.CreateSecret"):
        assert f"{call} 200" in log  # every service ecrcache uses, through the one endpoint
    assert "ce.GetCostAndUsage 200" in log
    assert "dckr_pat" not in log and KEY_ID not in log  # no secret, no access key

    code, out, err = cli(capsys, "--sandbox", "plan", "-c", str(EXAMPLE), "--detailed-exitcode")
    assert code == 0, out + err
    assert "No changes." in out
    code, out, _ = cli(capsys, "sandbox", "status", "-o", "json")
    assert json.loads(out)["data"]["served_at"] is None  # the server is gone


def test_endpoint_url_reaches_every_client_ecrcache_makes() -> None:
    from functools import cached_property

    from ecrcache.aws import Clients
    from ecrcache.doctor.context import doctor_clients

    url = "http://127.0.0.1:1"
    clients = Clients(boto3.session.Session(region_name=REGION), REGION, endpoint_url=url)
    services = [
        name
        for name, attr in vars(Clients).items()
        if isinstance(attr, cached_property) and name != "account_id"
    ]
    assert {"ecr", "secretsmanager", "sts", "iam", "ce"} <= set(services)
    for bundle in (clients, doctor_clients(clients)):
        for name in services:
            assert getattr(bundle, name).meta.endpoint_url == url, name


def test_port_zero_busy_port_second_server_and_sigterm(
    sandbox_server: ServedSandbox, tmp_path: Path
) -> None:
    served = sandbox_server
    # The same state cannot be served twice: refused at once, naming the running server.
    second = subprocess.run(
        ecrcache_command("sandbox", "serve", "--port", "0"),
        env=serve_env(served.state_path),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert second.returncode == 1
    assert second.stderr.splitlines()[0] == (
        f"Error: the sandbox state {served.state_path} is held by `ecrcache sandbox serve` "
        f"at {served.endpoint}"
    )
    # Another state on the running server's port: one line, the exit code, a hint.
    busy = subprocess.run(
        ecrcache_command("sandbox", "serve", "--port", str(served.port)),
        env=serve_env(tmp_path / "other" / "sandbox.state"),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert busy.returncode == 1 and busy.stdout == ""
    assert busy.stderr.splitlines() == [
        f"Error: port {served.port} on 127.0.0.1 is in use by another program",
        "Hint: choose another with --port N, or --port 0 for a free one",
    ]
    assert not (tmp_path / "other" / "sandbox.state").exists()
    assert served.stop(signal.SIGTERM) == 0  # docker stop, systemd: as Ctrl-C
    assert "Stopped the sandbox server" in served.log()


def test_json_output_names_the_endpoint(aws_env: Path, tmp_path: Path) -> None:
    with served_sandbox(aws_env, log_dir=tmp_path, args=("-o", "json")) as served:
        deadline = time.monotonic() + TIMEOUT_S
        while True:  # the envelope is written whole before serving; its first lines may come first
            try:
                doc = json.loads("".join(served.stdout_lines))
                break
            except ValueError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert doc["ok"] is True and doc["command"] == "sandbox serve"
        assert doc["data"] == {
            "endpoint": served.endpoint,
            "port": served.port,
            "state_path": str(aws_env),
        }
        assert served.stop() == 0


def _client(served: ServedSandbox) -> Any:
    """An ECR client on the server that does not retry: every success is one acknowledged call."""
    return boto3.client(
        "ecr",
        region_name=REGION,
        endpoint_url=served.endpoint,
        config=botocore.config.Config(
            retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30
        ),
    )


def test_sigkill_in_a_burst_of_writes_keeps_every_acknowledged_one(
    sandbox_server: ServedSandbox,
) -> None:
    served = sandbox_server
    ecr = _client(served)
    names = [f"burst/repo-{i:03d}" for i in range(400)]
    acked: list[str] = []
    # Saved before answered: what a client was told happened is already in the file.
    for name in names[:3]:
        ecr.create_repository(repositoryName=name)
        acked.append(name)
        saved = statefile.read(served.state_path)
        assert saved is not None
        assert sorted(saved["ecr"][SANDBOX_ACCOUNT_ID][REGION].repositories) == acked
    killer = threading.Timer(0.0, served.process.kill)
    deadline = time.monotonic() + TIMEOUT_S
    for name in names[3:]:
        if len(acked) == 25:
            killer.start()  # from another thread, while the next writes are in flight
        try:
            ecr.create_repository(repositoryName=name)
        except (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError):
            break
        acked.append(name)
        assert time.monotonic() < deadline
    assert killer.ident is not None, "the burst ended before the kill"
    killer.join(timeout=TIMEOUT_S)
    served.process.wait(timeout=TIMEOUT_S)
    assert served.process.returncode == -signal.SIGKILL
    assert 25 <= len(acked) < len(names)

    saved = statefile.read(served.state_path)  # loadable: never a half-written file
    assert saved is not None
    kept = sorted(saved["ecr"][SANDBOX_ACCOUNT_ID][REGION].repositories)
    # A prefix of the writes in order, holding every acknowledged one (and at most the one
    # whose response the kill cut off).
    assert kept == names[: len(kept)]
    assert len(acked) <= len(kept) <= len(acked) + 1
    # The killed server's announcement in the lock file does not block the next --sandbox run.
    with open_sandbox(region=REGION, state_path=served.state_path) as session:
        listed = session.client("ecr").describe_repositories(maxResults=1000)["repositories"]
        assert sorted(r["repositoryName"] for r in listed) == kept


def test_serve_waits_for_a_sandbox_run_and_serves_what_it_wrote(
    aws_env: Path, tmp_path: Path
) -> None:
    with ExitStack() as stack:
        sandbox_run = ExitStack()
        try:
            session = sandbox_run.enter_context(open_sandbox(region=REGION, state_path=aws_env))
            session.client("ecr").create_repository(repositoryName="written/by-sandbox")
            wait_until_serving = stack.enter_context(starting_serve(aws_env, log_dir=tmp_path))
            # The run holds the state: the server waits instead of serving a copy it would lose.
            with pytest.raises(TimeoutError):
                wait_until_serving(3.0)
        finally:
            sandbox_run.close()  # the run saves and releases the lock
        served = wait_until_serving(TIMEOUT_S)
        listed = _client(served).describe_repositories()["repositories"]
        assert [r["repositoryName"] for r in listed] == ["written/by-sandbox"]
        assert served.stop() == 0
