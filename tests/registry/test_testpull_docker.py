"""test-pull --docker, with a stand-in ``docker`` on PATH (no daemon exists where tests run)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from ecrcache.cli.app import run

DIGEST = "sha256:" + "c" * 64
# Answers as the docker CLI does: version (server), image inspect (not present), pull, rm.
WORKING = f"""#!/bin/sh
echo "$*" >> "$DOCKER_LOG"
case "$1" in
  version) echo 27.5.1 ;;
  image) [ "$2" = rm ] && echo "Untagged: $3" || {{ echo "Error: No such image" >&2; exit 1; }} ;;
  pull) echo "1.0: Pulling from app"; echo "Digest: {DIGEST}"; echo "Status: Downloaded" ;;
esac
"""
NO_DAEMON = """#!/bin/sh
echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." >&2
echo "Is the docker daemon running?" >&2
exit 1
"""
FAILING_PULL = """#!/bin/sh
case "$1" in
  version) echo 27.5.1 ;;
  image) exit 1 ;;
  pull) echo "Error response from daemon: no basic auth credentials" >&2; exit 1 ;;
esac
"""


@pytest.fixture
def bindir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH holding only what the test puts there."""
    path = tmp_path / "bin"
    path.mkdir()
    monkeypatch.setenv("PATH", str(path))
    monkeypatch.setenv("DOCKER_LOG", str(tmp_path / "docker.log"))
    return path


def fake_docker(bindir: Path, script: str) -> None:
    exe = bindir / "docker"
    exe.write_text(script)
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(["test-pull", "--registry-url", "http://127.0.0.1:5000", "--docker", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cold_and_warm_docker_pulls(
    capsys: pytest.CaptureFixture[str], bindir: Path, tmp_path: Path
) -> None:
    fake_docker(bindir, WORKING)
    code, out, err = cli(capsys, "app:1.0", "--platform", "linux/arm64", "-o", "json")
    assert code == 0, err
    data = json.loads(out)["data"]
    assert data["method"] == "docker" and data["verification"] is None
    assert [a["attempt"] for a in data["attempts"]] == ["cold", "warm"]
    for attempt in data["attempts"]:
        assert attempt["digest"] == DIGEST
        assert attempt["manifest"] is None and attempt["blobs"] is None  # docker gives totals
    calls = (tmp_path / "docker.log").read_text().splitlines()
    image = "127.0.0.1:5000/app:1.0"
    pull = f"pull --platform linux/arm64 {image}"
    # Removed after each pull (it was not there before), so the warm pull asks the registry.
    assert calls[1:] == [
        f"image inspect {image}",
        pull,
        f"image rm {image}",
        pull,
        f"image rm {image}",
    ]
    assert calls[0].startswith("version")


def test_without_a_daemon(capsys: pytest.CaptureFixture[str], bindir: Path) -> None:
    fake_docker(bindir, NO_DAEMON)
    code, out, err = cli(capsys, "app:1.0")
    assert code == 1 and out == ""
    assert "the docker CLI cannot reach a Docker daemon (Is the docker daemon running?)" in err
    assert "drop --docker" in err


def test_without_the_docker_cli(capsys: pytest.CaptureFixture[str], bindir: Path) -> None:
    code, out, _ = cli(capsys, "app:1.0", "-o", "json")
    error = json.loads(out)["error"]
    assert code == 1 and error["code"] == "test-pull" and error["exit_code"] == 1
    assert error["message"] == "--docker: the docker CLI is not installed (not on PATH)"


def test_failed_docker_pull(capsys: pytest.CaptureFixture[str], bindir: Path) -> None:
    fake_docker(bindir, FAILING_PULL)
    code, _, err = cli(capsys, "app:1.0")
    assert code == 1
    assert "cold pull: docker pull 127.0.0.1:5000/app:1.0 failed: Error response from daemon" in err
    assert "ecrcache login" in err
