"""Issue 15 item 5: the sandbox tells the truth. ``login`` contacts nothing (run here with no
resolver and no outbound connection: any attempt fails the test), an unset token is reported
as on a real account, import works where the sandbox's cache is, and a hint's next command
carries ``--sandbox``."""

from __future__ import annotations

import json
import socket
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cli_support import cli

from ecrcache import nextcommand

CONFIG = """\
version = 1
region = "{region}"

[rules.docker-hub]
upstream = "docker-hub"
[rules.docker-hub.credentials]
secret = "ecr-pullthroughcache/docker-hub"
username = "acme-ci"
token = {{ env = "DOCKERHUB_TOKEN" }}

[rules.quay]
upstream = "quay"
"""


def write_config(tmp_path: Path, region: str = "af-south-1", name: str = "c.toml") -> Path:
    path = tmp_path / name
    path.write_text(CONFIG.format(region=region))
    return path


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """No resolver and no outbound connection: each attempt is recorded and fails."""
    attempts: list[str] = []

    def no_lookup(host: object, *args: object, **kwargs: object) -> object:
        attempts.append(f"getaddrinfo {host}")
        raise socket.gaierror(socket.EAI_NONAME, "no resolver in this test")

    real_connect = socket.socket.connect

    def no_connect(self: socket.socket, address: object) -> None:
        if self.family == socket.AF_UNIX:
            return real_connect(self, address)  # type: ignore[arg-type]
        attempts.append(f"connect {address}")
        raise OSError("no network in this test")

    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    monkeypatch.setattr(socket.socket, "connect", no_connect)
    return attempts


@pytest.fixture
def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """docker and helm on PATH (alone) that record that they ran."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("docker", "helm"):
        script = bindir / tool
        script.write_text(f'#!/bin/sh\necho {tool} "$@" >> "{bindir}/ran"\necho ok\n')
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(bindir))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "dockercfg"))
    return bindir


@pytest.mark.parametrize("helm", [False, True], ids=["docker", "helm"])
def test_sandbox_login_contacts_nothing_and_says_what_would_run(
    helm: bool,
    tmp_path: Path,
    fake_docker: Path,
    no_network: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(tmp_path)
    code, out, err = cli(capsys, "--sandbox", "-c", str(config), "login", *(["--helm"] * helm))
    assert code == 0, err
    assert no_network == []
    assert not (fake_docker / "ran").exists()  # neither docker nor helm was started
    tool = "helm registry login" if helm else "docker login"
    host = "123456789012.dkr.ecr.af-south-1.amazonaws.com"
    assert f"  {tool} --username AWS --password-stdin {host}\n" in out
    assert "sandbox: not run" in out
    assert not (tmp_path / "dockercfg" / "config.json").exists()


def test_sandbox_login_json_names_the_commands_and_a_token_valid_12_hours(
    tmp_path: Path,
    fake_docker: Path,
    no_network: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(tmp_path)
    before = datetime.now(UTC)
    code, out, _ = cli(capsys, "--sandbox", "-c", str(config), "-o", "json", "login")
    assert code == 0 and no_network == []
    data = json.loads(out)["data"]
    assert data["method"] == "sandbox-dry-run"
    assert data["would_run"] == [
        "docker login --username AWS --password-stdin 123456789012.dkr.ecr.af-south-1.amazonaws.com"
    ]
    left = datetime.fromisoformat(data["expires_at"]) - before
    assert timedelta(hours=11, minutes=59) < left <= timedelta(hours=12, minutes=1)


def test_sandbox_login_write_config_writes_the_entry_and_contacts_nothing(
    tmp_path: Path,
    fake_docker: Path,
    no_network: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(tmp_path)
    code, out, err = cli(capsys, "--sandbox", "-c", str(config), "login", "--write-config")
    assert code == 0, err
    assert no_network == [] and not (fake_docker / "ran").exists()
    written = json.loads((tmp_path / "dockercfg" / "config.json").read_text())
    assert "123456789012.dkr.ecr.af-south-1.amazonaws.com" in written["auths"]
    assert "nothing contacted" in out


def test_the_no_network_fixture_catches_a_lookup(no_network: list[str]) -> None:
    """The fixture above can fail a test: a lookup is recorded and refused."""
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("123456789012.dkr.ecr.af-south-1.amazonaws.com", 443)
    assert no_network == ["getaddrinfo 123456789012.dkr.ecr.af-south-1.amazonaws.com"]


# --- an unset token ---------------------------------------------------------------------------


def test_an_unset_token_leaves_an_existing_secret_as_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path)
    monkeypatch.setenv("DOCKERHUB_TOKEN", "dckr_pat_" + "a" * 27)
    code, _, err = cli(capsys, "--sandbox", "-c", str(config), "apply", "--yes")
    assert code == 0, err
    monkeypatch.delenv("DOCKERHUB_TOKEN")
    code, out, err = cli(capsys, "--sandbox", "-c", str(config), "plan", "--detailed-exitcode")
    assert code == 0, out + err  # no change: not an update to a placeholder
    assert "No changes." in out
    assert (
        "secret ecr-pullthroughcache/docker-hub: value not checked (environment variable "
        "DOCKERHUB_TOKEN is not set); it is left as it is"
    ) in " ".join(err.split())
    assert "placeholder" not in err


def test_an_unset_token_still_lets_the_sandbox_create_the_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    code, out, err = cli(capsys, "--sandbox", "-c", str(config), "plan")
    assert code == 0, err
    assert "+ secret.ecr-pullthroughcache/docker-hub will be created" in out
    assert "gets a placeholder value" in " ".join(err.split())


# --- import and the sandbox's region ----------------------------------------------------------


def test_import_in_the_sandbox_reads_the_region_its_cache_is_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The tests' AWS_DEFAULT_REGION is af-south-1; the sandbox's cache is in eu-west-1."""
    config = write_config(tmp_path, region="eu-west-1")
    assert cli(capsys, "--sandbox", "-c", str(config), "apply", "--yes")[0] == 0
    code, out, err = cli(capsys, "--sandbox", "import")
    assert code == 0, err
    assert "in eu-west-1." in out
    assert 'region = "eu-west-1"' in out and "[rules.quay]" in out
    assert "`ecrcache --sandbox plan -c <this file>`" in out


def test_import_in_a_sandbox_of_two_regions_asks_which(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for region in ("eu-west-1", "us-east-2"):
        config = write_config(tmp_path, region=region, name=f"{region}.toml")
        assert cli(capsys, "--sandbox", "-c", str(config), "apply", "--yes")[0] == 0
    code, _, err = cli(capsys, "--sandbox", "import")
    assert code == 2
    assert "eu-west-1, us-east-2" in err
    assert "`ecrcache import --sandbox --region eu-west-1`" in err


# --- hints that name a next command -----------------------------------------------------------


def test_a_hint_in_the_sandbox_names_the_next_command_with_sandbox(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    code, _, err = cli(capsys, "--sandbox", "-c", str(config), "apply")  # stdin: no terminal
    assert code == 2
    assert "`ecrcache --sandbox plan`" in err
    # the run's mode ends with the run: outside the sandbox a hint stays as written
    assert nextcommand.for_run("`ecrcache plan`") == "`ecrcache plan`"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("run `ecrcache plan`", "run `ecrcache --sandbox plan`"),
        ("`ecrcache apply --yes` then `ecrcache status`", None),
        ("`ecrcache --sandbox apply`", "`ecrcache --sandbox apply`"),
        ("`ecrcache apply --sandbox`", "`ecrcache apply --sandbox`"),
        ("`ecrcache init` writes one", "`ecrcache init` writes one"),
        ("reset with `ecrcache sandbox reset`", "reset with `ecrcache sandbox reset`"),
        ("`ecrcache validate -c x.toml`", "`ecrcache validate -c x.toml`"),
        ("`ecrcache`", "`ecrcache --sandbox`"),
        ("no command here", "no command here"),
    ],
)
def test_with_sandbox_adds_the_flag_once_where_it_matters(text: str, expected: str | None) -> None:
    if expected is None:
        expected = "`ecrcache --sandbox apply --yes` then `ecrcache --sandbox status`"
    assert nextcommand.with_sandbox(text) == expected
    assert nextcommand.with_sandbox(expected) == expected  # idempotent
