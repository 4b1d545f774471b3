"""A real containerd for tests: started on a private socket with its root and state under a
test directory, driven with ``ctr``, stopped at the end. Nothing touches the machine's own
containerd (/run/containerd, /var/lib/containerd) or systemd."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import tomli_w
from regsupport import free_port

NAMESPACE = "ecrcache-test"


@dataclass
class Containerd:
    address: str
    workdir: Path
    process: subprocess.Popen[bytes]
    # Every pull runs with HTTP(S) proxies at a closed port (loopback exempt): a request for a
    # real upstream fails at once instead of reaching the internet.
    env: dict[str, str]

    def ctr(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ctr", "--address", self.address, "--namespace", NAMESPACE, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env,
            check=False,
        )

    def pull(self, ref: str, hosts_dir: Path, platform: str) -> subprocess.CompletedProcess[str]:
        return self.ctr(
            "images",
            "pull",
            "--hosts-dir",
            str(hosts_dir),
            "--platform",
            platform,
            "--snapshotter",
            "native",
            ref,
        )

    def image_digest(self, ref: str) -> str | None:
        done = self.ctr("images", "ls", "--quiet")
        if ref not in done.stdout.split():
            return None
        for line in self.ctr("images", "ls").stdout.splitlines()[1:]:
            cols = line.split()
            if cols and cols[0] == ref:
                return next((c for c in cols if c.startswith("sha256:")), None)
        return None

    def content_digests(self) -> set[str]:
        lines = self.ctr("content", "ls", "--quiet").stdout.split()
        return {d for d in lines if d.startswith("sha256:")}


@contextlib.contextmanager
def start_containerd(workdir: Path) -> Iterator[Containerd]:
    binary = shutil.which("containerd")
    if binary is None or shutil.which("ctr") is None:
        pytest.skip("containerd is not installed (Debian package containerd; .ci/run installs it)")
    workdir.mkdir(parents=True, exist_ok=True)
    # Unix socket paths are limited to 107 bytes: the sockets go in a short directory of their own.
    sockets = Path(tempfile.mkdtemp(prefix="ctd-", dir="/tmp"))
    address = str(sockets / "containerd.sock")
    config = {
        "version": 2,
        "root": str(workdir / "root"),
        "state": str(workdir / "state"),
        "disabled_plugins": ["io.containerd.grpc.v1.cri"],
        "grpc": {"address": address},
        "ttrpc": {"address": str(sockets / "ttrpc.sock")},
        "debug": {"address": str(sockets / "debug.sock")},
        "metrics": {"address": ""},
    }
    (workdir / "config.toml").write_text(tomli_w.dumps(config))
    closed = f"http://127.0.0.1:{free_port()}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HTTP_PROXY": closed,
        "HTTPS_PROXY": closed,
        "NO_PROXY": "127.0.0.1",
    }
    log = open(workdir / "containerd.log", "wb")  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen(
        [binary, "--config", str(workdir / "config.toml")], stdout=log, stderr=log, env=env
    )
    daemon = Containerd(address, workdir, proc, env)
    try:
        _wait(daemon, workdir / "containerd.log")
        yield daemon
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
        shutil.rmtree(sockets, ignore_errors=True)


def _wait(daemon: Containerd, logfile: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if daemon.process.poll() is not None:
            tail = logfile.read_text(errors="replace")[-1500:]
            pytest.skip(f"containerd could not start as this user: {tail.strip()[-300:]}")
        if Path(daemon.address).exists() and daemon.ctr("version", timeout=5).returncode == 0:
            return
        time.sleep(0.1)
    pytest.skip("containerd did not answer on its socket within 20 s")
