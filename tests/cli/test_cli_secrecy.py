"""Secrets stay secret (issue 16, item 4): a credential pasted where a name belongs, a password
in --endpoint-url, a secret's JSON keys, and AWS messages quoting a value. Each failed first."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import botocore.exceptions
import pytest
from cli_support import cli
from doctor_support import EXAMPLE, Doctor, account

from ecrcache.aws import translate
from ecrcache.cli.app import report_error
from ecrcache.errors import AwsError
from ecrcache.secrecy import looks_like_credential, redact, remember

# Shaped as each upstream issues them; none is real.
PASTED = (
    "dckr_pat_Q9x7Lm2Zp4Rt8Vw1Ks5Hd3Fg",  # Docker Hub (a valid variable name, too)
    "ghp_4fK9sLm2Qp8Zx7Vt1Rw3Yh6Nc5Bd0Ja2Ge",  # GitHub classic PAT
    "glpat-Zq8Xw2Lm9Kp4Rt7Vs1Hd",  # GitLab (a '-': no variable name)
    "dGhpc2lzYXRva2VuUTl4N0xtMlpwNFJ0",  # a bare base64 value
)

CONFIG = """version = 1
region = "af-south-1"
[rules.docker-hub]
upstream = "docker-hub"
[rules.docker-hub.credentials]
secret = "ecr-pullthroughcache/docker-hub"
username = "acme-ci"
token = {source}
"""


def _config(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "ecrcache.toml"
    path.write_text(CONFIG.format(source=source))
    return path


@pytest.mark.parametrize("token", PASTED)
@pytest.mark.parametrize("key", ["env", "file", "command"])
@pytest.mark.parametrize(
    "command", [("validate",), ("--sandbox", "plan"), ("--sandbox", "plan", "-o", "json")]
)
def test_a_pasted_token_is_never_echoed(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    token: str,
    key: str,
    command: tuple[str, ...],
) -> None:
    value = f'["pass", "{token}"]' if key == "command" else f'"{token}"'
    config = _config(tmp_path, f"{{ {key} = {value} }}")
    code, out, err = cli(capsys, *command, "-c", str(config))
    assert code == 2
    assert token not in out + err
    assert "looks like a credential" in out + err
    assert f"rules.docker-hub.credentials.token.{key}" in out + err


def test_names_and_paths_are_not_mistaken_for_credentials() -> None:
    for name in (
        "DOCKERHUB_TOKEN",
        "GHCR_TOKEN_2024",
        "MY_VERY_LONG_ENVIRONMENT_NAME_1",
        "~/.secrets/docker-hub-token",
        "/run/secrets/3f2a9c1e-1234-4abc-9def-0123456789ab",
        "arn:aws:secretsmanager:af-south-1:123456789012:secret:hub-AbCdEf",
        "op://vault/item/field",
    ):
        assert not looks_like_credential(name), name
    for token in PASTED:
        assert looks_like_credential(token), token


@pytest.mark.parametrize(
    "args",
    [
        ("--endpoint-url", "http://ci:PW_Q9x7Lm2Zp4Rt8Vw1@127.0.0.1:99999", "plan"),
        ("--endpoint-url", "http://ci:PW_Q9x7Lm2Zp4Rt8Vw1@[::1", "plan", "-o", "json"),
        ("--endpoint-url", "ftp://ci:PW_Q9x7Lm2Zp4Rt8Vw1@host", "status"),
    ],
)
def test_endpoint_url_passwords_are_not_printed_in_errors(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    config = Path(__file__).resolve().parents[2] / "config.example.toml"
    code, out, err = cli(capsys, *args, "-c", str(config))
    assert code == 2
    assert "PW_Q9x7Lm2Zp4Rt8Vw1" not in out + err
    assert "internal error" not in out + err


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_doctor_context_and_findings_hide_the_endpoint_password(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = f"http://ci:PW_Q9x7Lm2Zp4Rt8Vw1@127.0.0.1:{_closed_port()}"
    config = Path(__file__).resolve().parents[2] / "config.example.toml"
    code, out, err = cli(
        capsys, "--endpoint-url", url, "doctor", "-c", str(config), "--root", str(tmp_path),
        "-o", "json",
    )  # fmt: skip
    assert code == 1
    assert "PW_Q9x7Lm2Zp4Rt8Vw1" not in out + err
    context = json.loads(out)["data"]["context"]
    assert context["endpoint_url"].startswith("http://(redacted)@127.0.0.1:")


def test_secret_keys_names_only_expected_keys(
    doctor: Doctor, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A value of {"<token>": "x", "user": "y"}: 'user' is a key people expect, so it is named;
    the other is counted."""
    token = "Q9x7Lm2Zp4Rt8Vw1Ks5Hd3FgQ9x7"
    monkeypatch.setenv("DOCKERHUB_TOKEN", "hub-value-1234567890")
    monkeypatch.setenv("GHCR_TOKEN", "ghcr-value-1234567890")
    doctor.apply()
    with account() as s:
        s.client("secretsmanager").put_secret_value(
            SecretId="ecr-pullthroughcache/github",
            SecretString=json.dumps({token: "x", "user": "acme", "notes here": "y"}),
        )
    _, data = doctor.run()
    keys = next(r for r in data["checks"] if r["id"] == "secret.keys")
    assert keys["status"] == "fail"
    assert "(has user, 2 other keys)" in keys["details"][0]
    assert token not in json.dumps(data) and "notes here" not in json.dumps(data)


def test_aws_messages_lose_known_secret_values(capsys: pytest.CaptureFixture[str]) -> None:
    """AWS validation messages quote the value sent ("Value '...' at 'secretString' failed to
    satisfy constraint"): once read, a value is redacted in the message, and in its base64 and
    hex forms."""
    value = "canary-Q9x7Lm2Zp4Rt8Vw1Ks5Hd3Fg"
    remember(value)
    b64 = "Y2FuYXJ5LVE5eDdMbTJacDRSdDhWdzFLczVIZDNGZw"
    exc = botocore.exceptions.ClientError(
        {
            "Error": {
                "Code": "ValidationException",
                "Message": f"Value '{value}' at 'secretString' failed; base64 {b64}; "
                f"hex {value.encode().hex()}",
            }
        },
        "PutSecretValue",
    )
    error = translate(exc, "update secret x")
    assert value not in error.message and b64 not in error.message
    assert value.encode().hex() not in error.message
    assert "(redacted)" in error.message
    # and the boundary redacts whatever message reaches it, however it was built
    assert report_error(AwsError(f"late: {value}"), as_json=True, command="plan") == 4
    out, err = capsys.readouterr()
    assert value not in out + err and "late: (redacted)" in out
    assert redact(f"x {value} y") == "x (redacted) y"


@pytest.fixture
def doctor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Doctor:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    return Doctor(tmp_path, capsys, EXAMPLE.read_text())
