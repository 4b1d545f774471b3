"""Fixtures shared by every test directory. Keep this small: directory-specific fixtures belong
in that directory's conftest.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

if TYPE_CHECKING:
    import boto3

    from serve_support import ServedSandbox

REGION = "af-south-1"

# Property tests: no deadline (a loaded 2-core CI machine is slow), and in CI a fixed seed so a
# run is reproducible; locally they explore as usual.
settings.register_profile("ecrcache", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, database=None)
settings.load_profile("ci" if os.environ.get("CI") else "ecrcache")


def pytest_configure(config: pytest.Config) -> None:
    # Every AWS call ecrcache makes in any test is checked against the CI policy it generates
    # for that config; denied calls fail the session (tests/ci_policy_calls.py).
    import ci_policy_calls

    config.pluginmanager.register(ci_policy_calls, "ecrcache-ci-policy-calls")


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Every test: fake AWS credentials, region af-south-1, no profile or endpoint from the
    developer's shell, no AWS config files, and a private sandbox state file. Returns the state
    file path (``ECRCACHE_SANDBOX_STATE``); it does not exist yet."""
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_ECR",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_REGION",
        # config.example.toml's token sources: a developer's shell must not leak into tests
        "DOCKERHUB_TOKEN",
        "GHCR_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    state = tmp_path / "sandbox-state" / "sandbox.state"
    monkeypatch.setenv("ECRCACHE_SANDBOX_STATE", str(state))
    return state


@pytest.fixture
def aws() -> Iterator[boto3.session.Session]:
    """A ``boto3.session.Session`` (region af-south-1) inside ``moto.mock_aws()``, with the
    ecrcache ECR extension installed (pull-through cache rules, creation templates). State
    starts empty and is discarded at the end of the test."""
    import boto3
    from moto import mock_aws

    from ecrcache.sandbox.ecr_extension import install

    install()
    with mock_aws():
        yield boto3.session.Session(region_name=REGION)


@pytest.fixture
def sandbox_server(aws_env: Path, tmp_path: Path) -> Iterator[ServedSandbox]:
    """``ecrcache sandbox serve --port 0`` in its own process, on this test's private state file
    (``aws_env``): ``.endpoint`` (``http://127.0.0.1:PORT``), ``.state_path``, ``.stop(sig)``,
    ``.log()``. Killed at teardown. See tests/serve_support.py."""
    from serve_support import served_sandbox

    with served_sandbox(aws_env, log_dir=tmp_path / "serve-logs") as served:
        yield served
