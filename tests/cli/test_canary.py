"""The canary suite (issue 16, item 6): every command and its main options, with a canary token
through each source (env, file, stdin, command), including failing runs (bad endpoint, denied
calls, bad token sources). The canary, its base64 and its hex, and the secret body ecrcache builds
from it, must appear in no output, log or written file. The only files allowed to hold it are
the token file the user wrote and the sandbox's state (it *is* the simulated Secrets Manager).
The ECR registry password is a second canary: it may appear only where the user asked for it
(``login --print-password``, the Docker config file).

In-process runs (the CLI runner is faithful for output and logs); subprocesses where the
process's own stdin and environment matter. The counts are printed at the end.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import logging
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cli_support import cli
from guarantee_counts import COUNTS

from ecrcache.reconcile.desired import secret_json
from lossy_proxy import operation_of
from serve_support import ecrcache_command, serve_env

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
CANARY = "cnry_Q9x7Lm2Zp4Rt8Vw1Ks5Hd3FgTy6Ua"
CANARY_GH = "cnrygh_Zx8Wv2Lq9Mp4Ks7Rt1Hd3Jf"
SOURCES = ("env", "file", "stdin", "command")
# Runs per source of each in-process test, and the real processes: README "What ecrcache
# guarantees" quotes the total (CANARY_RUNS), and each test checks it made its share.
RUNS_PER_SOURCE = {"every_command": 25, "failing": 5, "denied": 3}
PROCESS_RUNS = 3
CANARY_RUNS = sum(RUNS_PER_SOURCE.values()) * len(SOURCES) + PROCESS_RUNS
SANDBOX_STATE = "sandbox.state"  # the simulated account: its Secrets Manager holds the value


def forms(value: str) -> tuple[str, ...]:
    """Every spelling of ``value`` that would be a leak."""
    raw = value.encode()
    body = secret_json("acme-ci", value).encode()
    return (
        value,
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        raw.hex(),
        base64.b64encode(body).decode().rstrip("="),
    )


LEAKS = (*forms(CANARY), *forms(CANARY_GH))


def assert_clean(where: str, text: str | bytes, *, debug: bool = False) -> None:
    blob = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    found = [f for f in LEAKS if f in blob]
    assert not found, f"canary form {found[0]!r} leaked in {where}"
    assert "internal error" not in blob, where
    assert debug or "Traceback" not in blob, where  # --debug shows them, redacted


@dataclass
class Canary:
    """One test's config, with the Docker Hub token read from ``source``."""

    tmp: Path
    source: str
    capsys: pytest.CaptureFixture[str]
    caplog: pytest.LogCaptureFixture
    monkeypatch: pytest.MonkeyPatch
    ecr_password: str | None = None
    outputs: list[tuple[str, str]] = field(default_factory=list)

    @property
    def config(self) -> Path:
        return self.tmp / "ecrcache.toml"

    @property
    def token_file(self) -> Path:
        return self.tmp / "secrets" / "hub-token"

    def write_config(self, source_toml: str | None = None) -> None:
        self.token_file.parent.mkdir(exist_ok=True)
        self.token_file.write_text(CANARY + "\n")
        toml = (
            source_toml
            or {
                "env": '{ env = "DOCKERHUB_TOKEN" }',
                "file": f'{{ file = "{self.token_file}" }}',
                "stdin": "{ stdin = true }",
                "command": f'{{ command = ["cat", "{self.token_file}"] }}',
            }[self.source]
        )
        text = EXAMPLE.read_text().replace('{ env = "DOCKERHUB_TOKEN" }', toml)
        self.config.write_text(text)
        self.monkeypatch.setenv("GHCR_TOKEN", CANARY_GH)
        if self.source == "env":
            self.monkeypatch.setenv("DOCKERHUB_TOKEN", CANARY)

    def run(self, *args: str, config: bool = True) -> tuple[int, str, str]:
        # stdin: the token on a fresh pipe for each run, as a shell would give it
        self.monkeypatch.setattr(sys, "stdin", io.StringIO(CANARY + "\n"))
        argv = [*args, *(("-c", str(self.config)) if config else ())]
        code, out, err = cli(self.capsys, *argv)
        label = " ".join(args)
        assert_clean(f"stdout of {label}", out, debug="--debug" in args)
        assert_clean(f"stderr of {label}", err, debug="--debug" in args)
        self.outputs.append((label, out + err))
        COUNTS[f"canary:{self.source}"] += 1
        return code, out, err

    def check_logs_and_files(self, *, allowed_password_files: tuple[Path, ...] = ()) -> int:
        assert_clean("log records", self.caplog.text)
        checked = 0
        for path in sorted(self.tmp.rglob("*")):
            if not path.is_file() or path == self.token_file or path.name.startswith(SANDBOX_STATE):
                continue
            data = path.read_bytes()
            assert_clean(f"file {path.relative_to(self.tmp)}", data)
            if self.ecr_password and path not in allowed_password_files:
                assert self.ecr_password.encode() not in data, path
            checked += 1
        if self.ecr_password:
            for label, text in self.outputs:
                if "--print-password" not in label:
                    assert self.ecr_password not in text, f"ECR password in output of {label}"
        return checked

    @staticmethod
    def monkeypatch_env(name: str) -> str:
        import os

        return os.environ[name]


@pytest.fixture(params=SOURCES)
def canary(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> Canary:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    c = Canary(tmp_path, request.param, capsys, caplog, monkeypatch)
    c.write_config()
    return c


def test_every_command_keeps_the_canary(canary: Canary) -> None:
    """Each command and its main options, in the sandbox, with the token from each source."""
    root = canary.tmp / "root"
    root.mkdir()
    docker_config = canary.tmp / "docker" / "config.json"
    imported = canary.tmp / "imported.toml"
    for args in (
        ("validate",),
        ("-o", "json", "validate"),
        ("--sandbox", "plan"),
        ("--sandbox", "--debug", "-o", "json", "plan"),
        ("--sandbox", "--debug", "apply", "--yes"),
        ("--sandbox", "plan", "--detailed-exitcode"),
        ("--sandbox", "-o", "json", "apply", "--yes"),
        ("--sandbox", "status"),
        ("--sandbox", "-o", "json", "status"),
        ("--sandbox", "cost-report"),
        ("--sandbox", "-o", "json", "cost-report"),
        ("--sandbox", "prune"),
        ("--sandbox", "outputs"),
        ("--sandbox", "-o", "json", "outputs"),
        ("--sandbox", "import", "--out", str(imported)),
        ("--sandbox", "--debug", "-o", "json", "import"),
        ("--sandbox", "doctor", "--root", str(root)),
        ("--sandbox", "--debug", "-o", "json", "doctor", "--root", str(root)),
        ("--sandbox", "rewrite", "nginx:latest"),
        ("--sandbox", "test-pull", "docker-hub/library/alpine:3.20"),
        ("--sandbox", "login", "--write-config", "--docker-config", str(docker_config)),
        (
            "--sandbox",
            "-o",
            "json",
            "login",
            "--write-config",
            "--docker-config",
            str(docker_config),
        ),
        ("--sandbox", "login", "--k8s-secret", "ecr-pull"),
    ):
        code, out, err = canary.run(*args)
        if "apply" in args or "validate" in args:
            assert code == 0, out + err
    # The token really was read from its source: the simulated Secrets Manager holds it.
    state = Path(canary.monkeypatch_env("ECRCACHE_SANDBOX_STATE"))
    assert CANARY.encode() in state.read_bytes()
    code, out, _ = canary.run("--sandbox", "login", "--print-password")
    assert code == 0 and out.strip()
    canary.ecr_password = out.strip()
    canary.run("--sandbox", "sandbox", "status", config=False)
    assert len(canary.outputs) == RUNS_PER_SOURCE["every_command"]
    assert docker_config.exists() and imported.exists()
    assert canary.check_logs_and_files(allowed_password_files=(docker_config,)) >= 2


def test_failing_runs_keep_the_canary(canary: Canary) -> None:
    """Bad endpoints (one with the canary as its password), bad token sources."""
    closed = _closed_port()
    for args in (
        ("--endpoint-url", f"http://ci:{CANARY}@127.0.0.1:99999", "plan"),
        ("--endpoint-url", f"http://ci:{CANARY}@[::1", "-o", "json", "apply", "--yes"),
        ("--endpoint-url", f"http://ci:{CANARY}@127.0.0.1:{closed}", "doctor", "--root",
         str(canary.tmp), "--check", "creds"),
    ):  # fmt: skip
        code, _, _ = canary.run(*args)
        assert code in (1, 2)
    bad_sources = {
        # the command prints the canary on both streams, then fails
        "command": '{ command = ["sh", "-c", "cat \\"$0\\"; cat \\"$0\\" >&2; exit 3", "'
        + str(canary.token_file)
        + '"] }',
        "file": f'{{ file = "{canary.token_file.parent}" }}',  # a directory
        "env": '{ env = "UNSET_CANARY_VARIABLE" }',
        "stdin": "{ stdin = true }",
    }
    canary.write_config(bad_sources[canary.source])
    if canary.source == "stdin":
        canary.monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    for args in (("--sandbox", "plan"), ("--sandbox", "--debug", "-o", "json", "apply", "--yes")):
        code, _, _ = canary.run(*args)
        assert code in (0, 1, 2)  # env and stdin: the sandbox stands a placeholder in
    assert len(canary.outputs) == RUNS_PER_SOURCE["failing"]
    canary.check_logs_and_files()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Operation -> (error code, message); a message quotes the request body where AWS would: AWS's
# validation messages quote the value sent ("1 validation error detected: Value '...' at
# 'templateBody' failed to satisfy constraint: ...", as moto's CloudFormation reproduces it).
DENIED: dict[str, tuple[str, str]] = {
    "CreateSecret": ("ValidationException", "Value '{body}' at 'secretString' is invalid"),
    "PutSecretValue": ("AccessDeniedException", "User is not authorized: {body}"),
    "CreatePullThroughCacheRule": ("AccessDeniedException", "not authorized"),
}


class EchoingDenier:
    """A loopback proxy in front of ``sandbox serve`` that refuses chosen operations the way
    AWS does, with messages that quote what was sent (AWS validation messages do:
    "Value '...' at 'secretString' failed to satisfy constraint"), and forwards the rest."""

    DENY = DENIED

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.denied: list[str] = []
        denier = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                _, op = operation_of({k.lower(): v for k, v in self.headers.items()}, body)
                if op in denier.DENY:
                    denier.denied.append(op)
                    code, message = denier.DENY[op]
                    data = json.dumps(
                        {"__type": code, "message": message.format(body=body.decode())}
                    ).encode()
                    self.send_response(400)
                    self.send_header("Content-Type", "application/x-amz-json-1.1")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                conn = http.client.HTTPConnection(
                    denier.upstream.hostname, denier.upstream.port, timeout=30
                )
                try:
                    conn.request(self.command, self.path, body=body, headers=dict(self.headers))
                    resp = conn.getresponse()
                    data = resp.read()
                finally:
                    conn.close()
                self.send_response(resp.status, resp.reason)
                for k, v in resp.getheaders():
                    if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"


@pytest.fixture
def denier(sandbox_server: object) -> Iterator[EchoingDenier]:
    proxy = EchoingDenier(sandbox_server.endpoint)  # type: ignore[attr-defined]
    yield proxy
    proxy.server.shutdown()


@pytest.mark.parametrize("source", SOURCES)
def test_denied_calls_keep_the_canary(
    denier: EchoingDenier,
    source: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Against an AWS-like endpoint (sandbox serve) that denies writes and quotes the request
    in its messages: the quoted secret body is redacted everywhere."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr("ecrcache.reconcile.handlers.common.PROPAGATION_DELAYS", ())
    c = Canary(tmp_path, source, capsys, caplog, monkeypatch)
    c.write_config()
    for args in (
        ("--endpoint-url", denier.url, "apply", "--yes"),
        ("--endpoint-url", denier.url, "--debug", "-o", "json", "apply", "--yes"),
        ("--endpoint-url", denier.url, "-o", "json", "plan"),
    ):
        code, out, err = c.run(*args)
        assert code in (0, 1, 2, 3, 4), out + err
    assert len(c.outputs) == RUNS_PER_SOURCE["denied"]
    assert "CreateSecret" in denier.denied  # the quoting message really was sent
    c.check_logs_and_files()


def _subprocess_env(tmp_path: Path, extra: dict[str, str]) -> dict[str, str]:
    env = serve_env(tmp_path / "state" / "sandbox.state", extra)
    env.pop("DOCKERHUB_TOKEN", None)
    return env


@pytest.mark.parametrize(
    ("source", "args"),
    [
        ("stdin", ("--sandbox", "--debug", "apply", "--yes")),
        ("env", ("--sandbox", "--debug", "-o", "json", "plan")),
        ("command", ("--sandbox", "-o", "json", "apply", "--yes")),
    ],
)
def test_real_processes_keep_the_canary(
    source: str,
    args: tuple[str, ...],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As a user runs it: the token on the process's own stdin or in its environment."""
    c = Canary(tmp_path, source, capsys, caplog, monkeypatch)
    c.write_config()
    extra = {"GHCR_TOKEN": CANARY_GH, **({"DOCKERHUB_TOKEN": CANARY} if source == "env" else {})}
    env = _subprocess_env(tmp_path, extra)
    if source == "env":
        env["DOCKERHUB_TOKEN"] = CANARY
    done = subprocess.run(
        ecrcache_command(*args, "-c", str(c.config)),
        input=CANARY + "\n" if source == "stdin" else "",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert_clean("process stdout", done.stdout)
    assert_clean("process stderr", done.stderr, debug="--debug" in args)
    COUNTS[f"canary:process-{source}"] += 1
    c.check_logs_and_files()
