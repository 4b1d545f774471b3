"""Bounded input (issue 16, item 3): each input that hung, overflowed the stack or gave
"internal error" now gives one line, a hint and exit 1 or 2. Each test failed before the fix."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from cli_support import cli

from serve_support import ecrcache_command, serve_env

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
DEEP = 5000  # far past the interpreter's recursion limit (1000)

MINIMAL = 'version = 1\nregion = "af-south-1"\n[rules.quay]\nupstream = "quay"\n'


def _clean(code: int, err: str) -> None:
    assert code in (1, 2), err  # 2: usage and config; 1: a file ecrcache will not touch
    assert "internal error" not in err and "Traceback" not in err
    assert err.startswith("Error: ") and len(err.strip().splitlines()) <= 2, err


def test_config_from_a_character_device_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "validate", "-c", "/dev/zero")
    _clean(code, err)
    assert "character device" in err and "regular file" in err


def test_config_from_a_fifo_does_not_hang(tmp_path: Path) -> None:
    """Opening a FIFO with no writer blocks for ever: run it as a process, bounded."""
    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)
    done = subprocess.run(
        ecrcache_command("validate", "-c", str(fifo)),
        env=serve_env(tmp_path / "state"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    _clean(done.returncode, done.stderr)
    assert "named pipe" in done.stderr


def test_oversized_config_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    big.write_text(MINIMAL + "# " + "x" * (5 * 1024 * 1024) + "\n")
    code, _, err = cli(capsys, "validate", "-c", str(big))
    _clean(code, err)
    assert "larger than 4 MiB" in err


def test_binary_config_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    binary = tmp_path / "bin.toml"
    binary.write_bytes(bytes(range(128, 256)) * 4)
    code, _, err = cli(capsys, "validate", "-c", str(binary))
    _clean(code, err)
    assert "not UTF-8 text" in err


@pytest.mark.parametrize(
    "body",
    [
        "a = " + "[" * DEEP + "]" * DEEP,
        "a = " + "{b = " * DEEP + "1" + "}" * DEEP,
    ],
    ids=["arrays", "inline-tables"],
)
def test_deeply_nested_toml_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, body: str
) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text(body + "\n")
    code, _, err = cli(capsys, "validate", "-c", str(deep))
    _clean(code, err)
    assert "nested more than 64 levels" in err


def _deep_json() -> str:
    return '{"rules": ' + "[" * DEEP + "]" * DEEP + "}"


def test_deep_lifecycle_policy_json_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        f"{MINIMAL}[repositories.\"acme/api\".lifecycle]\npolicy = '{_deep_json()}'\n"
    )
    code, _, err = cli(capsys, "validate", "-c", str(config))
    _clean(code, err)
    assert 'repositories."acme/api".lifecycle.policy' in err and "nested" in err


def test_deep_repository_policy_json_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        f"{MINIMAL}[templates.ROOT]\nrepository_policy = '{_deep_json()}'\n"
        "[templates.ROOT.lifecycle]\nkeep_last = 3\n"
    )
    code, _, err = cli(capsys, "validate", "-c", str(config))
    _clean(code, err)
    assert "templates.ROOT.repository_policy" in err


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (bytes(range(128, 256)), "not UTF-8 text"),
        (('{"auths": ' + "[" * DEEP + "]" * DEEP + "}").encode(), "nested more than 64"),
        (b'{"auths": {}}' + b" " * (5 * 1024 * 1024), "larger than 4 MiB"),
    ],
    ids=["binary", "deep", "huge"],
)
def test_hostile_docker_config_is_refused_and_left_alone(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, says: str
) -> None:
    docker_config = tmp_path / "config.json"
    docker_config.write_bytes(content)
    code, _, err = cli(
        capsys,
        "--sandbox",
        "login",
        "--write-config",
        "--docker-config",
        str(docker_config),
        "-c",
        str(EXAMPLE),
    )
    err = err.split("\n", 1)[1]  # after the sandbox note
    _clean(code, err)
    assert says in err
    assert docker_config.read_bytes() == content


def test_docker_config_that_is_a_device_is_not_read(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(
        capsys, "--sandbox", "login", "--write-config", "--docker-config", "/dev/zero",
        "-c", str(EXAMPLE),
    )  # fmt: skip
    err = err.split("\n", 1)[1]
    _clean(code, err)
    assert "character device" in err


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("notaurl", "must start with http:// or https://"),
        ("http://127.0.0.1:99999", "port out of range"),
        ("http://127.0.0.1:abc", "port could not be cast"),
        ("http://[::1", "invalid ipv6 url"),
        ("http://under_score:8080", "not a valid host name"),
        ("http://", "has no host name"),
    ],
)
def test_bad_endpoint_urls_are_usage_errors(
    capsys: pytest.CaptureFixture[str], url: str, says: str
) -> None:
    code, _, err = cli(capsys, "--endpoint-url", url, "plan", "-c", str(EXAMPLE))
    _clean(code, err)
    assert says in err and "--endpoint-url" in err


def test_bad_aws_endpoint_url_variable_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://[::1")
    code, _, err = cli(capsys, "plan", "-c", str(EXAMPLE))
    _clean(code, err)
    assert "AWS_ENDPOINT_URL" in err


def test_oversized_token_file_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    token = tmp_path / "token"
    token.write_text("t" * (70 * 1024))
    config = tmp_path / "c.toml"
    config.write_text(
        'version = 1\nregion = "af-south-1"\n[rules.docker-hub]\nupstream = "docker-hub"\n'
        '[rules.docker-hub.credentials]\nsecret = "ecr-pullthroughcache/docker-hub"\n'
        f'username = "acme"\ntoken = {{ file = "{token}" }}\n'
    )
    code, _, err = cli(capsys, "--sandbox", "plan", "-c", str(config))
    err = err.split("\n", 1)[1]
    _clean(code, err)
    assert "larger than 64 KiB" in err and "t" * 100 not in err
