"""login.py: tokens from GetAuthorizationToken (moto), and docker/helm fed through stdin."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ecrcache.registry.login import (
    LoginError,
    RegistryToken,
    docker_login,
    expiry_text,
    fetch_tokens,
    helm_login,
    single_password,
)

EXPIRES = datetime(2030, 1, 1, 12, tzinfo=UTC)


@pytest.fixture
def ecr(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield boto3.client("ecr", region_name="eu-west-1")


def fake_tool(directory: Path, name: str, *, exit_code: int = 0, stderr: str = "") -> Path:
    """An executable that records its argv (one per line) and stdin next to itself."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / name
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > "{directory}/{name}.argv"\n'
        f'{shutil.which("cat")} > "{directory}/{name}.stdin"\n'
        f"printf '%s\\n' '{stderr}' >&2\n"
        f"exit {exit_code}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_fetch_tokens_from_ecr_decodes_the_aws_token(ecr: Any) -> None:
    (token,) = fetch_tokens(ecr)
    raw = ecr.get_authorization_token()["authorizationData"][0]
    assert token.registry == raw["proxyEndpoint"].removeprefix("https://")
    assert token.registry.endswith(".dkr.ecr.eu-west-1.amazonaws.com")
    assert token.username == "AWS"
    assert token.password and token.password not in repr(token)
    assert token.expires_at.tzinfo is not None


def test_fetch_tokens_for_other_accounts(ecr: Any) -> None:
    tokens = fetch_tokens(ecr, registry_ids=["111122223333", "444455556666"])
    assert [t.registry for t in tokens] == [
        "111122223333.dkr.ecr.eu-west-1.amazonaws.com",
        "444455556666.dkr.ecr.eu-west-1.amazonaws.com",
    ]


def test_fetch_tokens_from_a_function() -> None:
    naive = datetime(2030, 1, 1, 12)
    tokens = fetch_tokens(lambda: [("AWS", "pw", naive, "https://1.dkr.ecr.x.amazonaws.com")])
    assert tokens == (RegistryToken("1.dkr.ecr.x.amazonaws.com", "AWS", "pw", EXPIRES),)


TOKEN = RegistryToken(
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "AWS", "s3cr3t-t0ken", EXPIRES
)


@pytest.mark.parametrize(
    ("login", "tool", "expected_argv"),
    [
        (
            docker_login,
            "docker",
            ["login", "--username", "AWS", "--password-stdin", TOKEN.registry],
        ),
        (
            helm_login,
            "helm",
            ["registry", "login", "--username", "AWS", "--password-stdin", TOKEN.registry],
        ),
    ],
)
def test_cli_login_sends_the_password_on_stdin_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, login: Any, tool: str, expected_argv: list[str]
) -> None:
    fake_tool(tmp_path, tool, stderr="WARNING! credentials stored unencrypted")
    monkeypatch.setenv("PATH", str(tmp_path))
    warnings = login(TOKEN)
    argv = (tmp_path / f"{tool}.argv").read_text().splitlines()
    assert argv == expected_argv
    assert TOKEN.password not in "\n".join(argv)
    assert (tmp_path / f"{tool}.stdin").read_bytes() == TOKEN.password.encode()
    assert "WARNING" in warnings


def test_a_failed_login_does_not_echo_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_tool(tmp_path, "docker", exit_code=1, stderr=f"Error: bad password {TOKEN.password}")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LoginError) as err:
        docker_login(TOKEN)
    assert "exit 1" in err.value.message
    assert TOKEN.password not in err.value.message
    assert "bad password (token)" in err.value.message


def test_missing_tool_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LoginError, match="helm is not installed"):
        helm_login(TOKEN)


def test_single_password() -> None:
    assert single_password([TOKEN, TOKEN]) == TOKEN.password
    other = RegistryToken(TOKEN.registry, "AWS", "different", EXPIRES)
    with pytest.raises(Exception, match="exactly one"):
        single_password([TOKEN, other])


@pytest.mark.parametrize(
    ("left", "expected"),
    [
        (timedelta(hours=12), "2030-01-01 12:00 UTC (in 12h 00m)"),
        (timedelta(hours=1, minutes=5, seconds=30), "2030-01-01 12:00 UTC (in 1h 05m)"),
        (timedelta(minutes=-1), "2030-01-01 12:00 UTC (expired)"),
    ],
)
def test_expiry_text(left: timedelta, expected: str) -> None:
    assert expiry_text(EXPIRES, now=EXPIRES - left) == expected


def test_no_token_in_the_environment_of_this_process(ecr: Any) -> None:
    (token,) = fetch_tokens(ecr)
    assert token.password not in " ".join(os.environ.values())
