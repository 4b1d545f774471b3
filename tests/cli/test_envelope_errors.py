"""Under ``--output json`` every failure is one envelope on stdout and nothing else (issue 15,
item 2): usage errors click raises before any command runs, config errors, AWS errors, an account
mismatch, internal errors, interrupts, login's artifacts, apply's cancelled prompt.

``json.loads(out)`` is the check that stdout holds exactly one JSON document: anything before or
after it (a usage banner, a prompt, a second document) makes it raise.
"""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cli_support import cli

from ecrcache.result import SCHEMA
from serve_support import serve_env

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config.example.toml"
ENVELOPE_KEYS = {"schema", "command", "ok", "data", "warnings", "error"}
ERROR_KEYS = {"code", "message", "hint", "exit_code", "details"}


def failure(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    """Run the CLI; return (exit code, the one envelope on stdout, stderr)."""
    code, out, err = cli(capsys, *args)
    doc = json.loads(out)  # exactly one document, or this raises
    assert set(doc) == ENVELOPE_KEYS and doc["schema"] == SCHEMA
    assert doc["ok"] is False and set(doc["error"]) >= ERROR_KEYS
    assert doc["error"]["exit_code"] == code
    assert doc["error"]["message"] and doc["error"]["hint"]
    assert "Traceback" not in err
    return code, doc, err


# -- usage errors: click raises them while parsing, before any command runs ------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--output", "json", "plan", "--bogus"], "No such option: --bogus"),
        (["plan", "--bogus", "--output", "json"], "No such option: --bogus"),
        (["plan", "--output=json", "--bogus"], "No such option: --bogus"),
        (["-ojson", "plan", "--bogus"], "No such option: --bogus"),
        (["-o", "json", "rewrit"], "No such command 'rewrit'. Did you mean 'rewrite'?"),
        (["-o", "json", "prune", "--older-than", "x"], "Invalid value for '--older-than'"),
        (["-o", "json", "test-pull"], "Missing argument 'REF'"),
        (["-o", "json", "sandbox"], "missing command"),
        (["-o", "json"], "Missing command"),
    ],
    ids=[
        "unknown-option",
        "json-after",
        "json-equals",
        "json-short",
        "unknown-command",
        "bad-value",
        "missing-argument",
        "missing-subcommand",
        "no-command",
    ],
)
def test_usage_errors_are_the_envelope(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, doc, err = failure(capsys, *args)
    assert code == 2
    assert doc["error"]["code"] == "usage" and message in doc["error"]["message"]
    assert doc["error"]["hint"].startswith("see `ecrcache")
    assert doc["data"] is None
    # stderr: the one line and its hint, not click's usage banner
    assert err.splitlines()[0] == f"Error: {doc['error']['message']}"
    assert "Usage:" not in err


def test_usage_errors_without_json_keep_clicks_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "plan", "--bogus")
    assert code == 2 and out == ""
    assert "Try 'ecrcache plan -h' for help." in err and "No such option: --bogus" in err


def test_the_command_is_named_in_the_envelope(capsys: pytest.CaptureFixture[str]) -> None:
    _, doc, _ = failure(capsys, "--output", "json", "plan", "--bogus")
    assert doc["command"] == "plan"
    _, doc, _ = failure(capsys, "-o", "json", "nosuch")
    assert doc["command"] == "ecrcache"


# -- config, credentials, AWS -----------------------------------------------------------------


def test_config_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, doc, _ = failure(capsys, "-o", "json", "plan", "-c", str(tmp_path / "none.toml"))
    assert code == 2 and doc["error"]["code"] == "config"
    assert "no such file" in doc["error"]["message"]


def test_another_accounts_config(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        'region = "af-south-1"\naccount_id = "210987654321"\n[rules.quay]\nupstream = "quay"\n'
    )
    code, doc, _ = failure(capsys, "--sandbox", "-o", "json", "plan", "-c", str(cfg))
    assert code == 3 and doc["error"]["code"] == "wrong-account"
    assert "210987654321" in doc["error"]["message"]


class RefusingEndpoint:
    """A loopback endpoint that answers every AWS JSON-protocol call with one error, in AWS's
    wire format (``__type`` and ``message``), so botocore parses it as it parses AWS's."""

    def __init__(self, error_type: str, status: int = 400) -> None:
        self.calls: list[str] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                endpoint.calls.append(self.headers.get("X-Amz-Target", ""))
                body = json.dumps({"__type": error_type, "message": "refused"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def refusing(request: pytest.FixtureRequest) -> Iterator[RefusingEndpoint]:
    endpoint = RefusingEndpoint(request.param)
    yield endpoint
    endpoint.server.shutdown()


@pytest.mark.parametrize(
    ("refusing", "kind", "exit_code"),
    [("InvalidParameterException", "aws", 4), ("AccessDeniedException", "aws-access", 3)],
    indirect=["refusing"],
    ids=["aws", "aws-access"],
)
def test_aws_errors(
    capsys: pytest.CaptureFixture[str], refusing: RefusingEndpoint, kind: str, exit_code: int
) -> None:
    code, doc, _ = failure(
        capsys, "-o", "json", "--endpoint-url", refusing.url, "status", "-c", str(EXAMPLE)
    )
    assert code == exit_code and doc["error"]["code"] == kind
    assert refusing.calls and all(
        c.startswith("AmazonEC2ContainerRegistry") for c in refusing.calls
    )
    assert len(set(refusing.calls)) == len(refusing.calls)  # botocore retries no such 400


# -- internal errors and interrupts -------------------------------------------------------------


def _break_config_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected exception where nothing expects one: a bug, as the user would meet it."""
    import ecrcache.config.loading as loading

    def broken(*_: object, **__: object) -> None:
        raise KeyError("region")

    monkeypatch.setattr(loading, "load_config", broken)


def test_internal_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _break_config_loading(monkeypatch)
    code, doc, err = failure(capsys, "-o", "json", "validate", "-c", str(EXAMPLE))
    assert code == 1 and doc["error"]["code"] == "internal"
    assert doc["error"]["message"] == "internal error: KeyError: 'region'"
    assert "--debug" in doc["error"]["hint"]
    assert err.startswith("Error: internal error: KeyError")


def test_internal_error_traceback_only_under_debug(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _break_config_loading(monkeypatch)
    code, out, err = cli(capsys, "-o", "json", "--debug", "validate", "-c", str(EXAMPLE))
    assert code == 1 and json.loads(out)["error"]["code"] == "internal"
    assert "Traceback (most recent call last)" in err and "KeyError: 'region'" in err
    assert "Traceback" not in out


def test_interrupt(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import ecrcache.reconcile.planning as planning

    real = planning.make_plan

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        signal.raise_signal(signal.SIGINT)  # as a Ctrl-C: the handler runs at once
        return real(*args, **kwargs)

    monkeypatch.setattr(planning, "make_plan", interrupted)
    code, out, err = cli(capsys, "--sandbox", "-o", "json", "plan", "-c", str(EXAMPLE))
    doc = json.loads(out)
    assert code == 130 and doc["ok"] is False and doc["error"]["code"] == "interrupted"
    assert doc["error"]["applied"] == []  # what was done: nothing, said so
    assert "Traceback" not in err


# -- login's artifacts, test-pull's failed check, apply's prompt ---------------------------


@pytest.mark.parametrize(
    "payload", [["--print-password"], ["--k8s-secret", "ecr-pull"]], ids=["password", "secret"]
)
def test_login_artifacts_have_no_json_form(
    capsys: pytest.CaptureFixture[str], payload: list[str]
) -> None:
    code, doc, err = failure(
        capsys, "--sandbox", "-o", "json", "login", *payload, "--region", "af-south-1"
    )
    assert code == 2 and doc["error"]["code"] == "usage"
    assert "drop --output json" in doc["error"]["hint"]
    assert "sandbox: simulated" not in err  # refused before the sandbox (or AWS) was opened


def test_failed_test_pull_keeps_its_result(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "--sandbox", "apply", "--yes", "-c", str(EXAMPLE))[0] == 0
    ref = "nginx@sha256:" + "b" * 64  # digest-only: ECR does not fill the cache from it
    code, doc, _ = failure(capsys, "--sandbox", "-o", "json", "test-pull", ref, "-c", str(EXAMPLE))
    assert code == 1 and doc["error"]["code"] == "check-failed"
    assert doc["data"]["verification"]["exists"] is False  # the result, next to the error
    assert any("digest-only" in w for w in doc["warnings"])


def test_cancelled_apply_is_the_envelope_and_the_prompt_is_on_stderr(tmp_path: Path) -> None:
    """A real process with a terminal on stdin, answering no."""
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ecrcache",
                "--sandbox",
                "-o",
                "json",
                "apply",
                "-c",
                str(EXAMPLE),
            ],
            stdin=secondary,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=serve_env(Path(os.environ["ECRCACHE_SANDBOX_STATE"])),
        )
        os.close(secondary)
        os.write(primary, b"no\n")
        out, err = proc.communicate(timeout=180)
    finally:
        os.close(primary)
    doc = json.loads(out)
    assert out.startswith(b"{")  # not even click's space before it
    assert proc.returncode == 1 and doc["error"]["code"] == "cancelled"
    assert doc["error"]["message"] == "Apply cancelled." and doc["error"]["exit_code"] == 1
    assert b"Only 'yes' will be accepted" in err
    assert b"Plan: 12 to add" in err  # what is asked about, shown on stderr
