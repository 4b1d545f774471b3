"""A dead or silent endpoint fails within a bound and says so (issue 15 item 4).

Real botocore clients built by ``Clients`` against loopback sockets: a closed port (refused), a
listener that takes connections and never answers (half-open). The attempts are counted where
they land: botocore's own ``before-send`` event for the refused port (no socket to count on),
the listener's accepted connections for the silent one.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import botocore.config
import botocore.exceptions
import pytest

import ecrcache.aws as ecrcache_aws
from ecrcache import endpointwait
from ecrcache.aws import Clients, aws_errors
from ecrcache.errors import AwsError


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SilentListener:
    """Accepts every connection, reads nothing, answers nothing; counts the connections."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.accepted.append(conn)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent() -> Iterator[SilentListener]:
    listener = SilentListener()
    yield listener
    listener.stop()


@pytest.fixture
def short_read_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        ecrcache_aws,
        "BOTO_CONFIG",
        ecrcache_aws.BOTO_CONFIG.merge(botocore.config.Config(read_timeout=1)),
    )


def clients(endpoint: str) -> Clients:
    return Clients(boto3.session.Session(region_name="af-south-1"), "af-south-1", endpoint)


def test_a_refused_connection_is_tried_twice_not_ten_times() -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    c = clients(endpoint)
    sends: list[str] = []
    c.sts.meta.events.register("before-send.*.*", lambda **kw: sends.append(kw["event_name"]))
    doing = "identify the caller (sts:GetCallerIdentity)"
    with pytest.raises(AwsError) as info, aws_errors(doing):
        c.sts.get_caller_identity()
    assert len(sends) == endpointwait.CONNECT_ATTEMPTS == 2
    # ...while throttling keeps the retry mode's attempts (botocore stores max_attempts, the
    # retries after the first, as total_max_attempts)
    retries = ecrcache_aws.BOTO_CONFIG.retries or {}
    assert retries["mode"] == "adaptive" and retries["total_max_attempts"] == 11
    assert info.value.message == (
        f"cannot identify the caller (sts:GetCallerIdentity): {endpoint}/ refused the connection"
    )
    assert info.value.hint and "--endpoint-url" in info.value.hint


@pytest.mark.usefixtures("short_read_timeout")
def test_a_silent_endpoint_gets_one_request_and_a_line_naming_it(silent: SilentListener) -> None:
    endpoint = f"http://127.0.0.1:{silent.port}"
    c = clients(endpoint)
    doing = "list the pull-through cache rules (ecr:DescribePullThroughCacheRules)"
    with pytest.raises(AwsError) as info, aws_errors(doing):
        c.ecr.describe_pull_through_cache_rules()
    assert len(silent.accepted) == endpointwait.READ_TIMEOUT_ATTEMPTS == 1
    assert f"{endpoint}/ accepted the connection but sent no answer in 1 s" in info.value.message
    assert info.value.message.count("\n") == 0


@pytest.mark.usefixtures("short_read_timeout")
def test_a_call_in_flight_is_reported_with_its_endpoint_and_operation(
    silent: SilentListener,
) -> None:
    endpoint = f"http://127.0.0.1:{silent.port}"
    c = clients(endpoint)
    seen: list[endpointwait.Wait | None] = []
    done = threading.Event()

    def call() -> None:
        with contextlib.suppress(botocore.exceptions.ReadTimeoutError):
            c.sts.get_caller_identity()
        done.set()

    endpointwait.set_notifier(seen.append)
    try:
        worker = threading.Thread(target=call)
        worker.start()
        deadline = time.monotonic() + 10
        while not silent.accepted and time.monotonic() < deadline:
            time.sleep(0.05)
        wait = endpointwait.slowest(after=0)
        assert wait is not None
        assert (wait.endpoint, wait.operation) == (endpoint, "sts:GetCallerIdentity")
        worker.join(timeout=10)
        assert done.is_set()
        assert endpointwait.slowest(after=0) is None  # the call ended: nothing in flight
    finally:
        endpointwait.set_notifier(None)


# --- what the CLI shows -----------------------------------------------------------------------

CONFIG = 'version = 1\nregion = "af-south-1"\n[rules.quay]\nupstream = "quay"\n'


@pytest.mark.usefixtures("short_read_timeout")
@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "terminal"])
def test_plan_says_what_it_waits_for_then_fails_in_one_line(
    terminal: bool,
    silent: SilentListener,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ecrcache.cli.app import run

    config = tmp_path / "ecrcache.toml"
    config.write_text(CONFIG)
    monkeypatch.setattr(endpointwait, "SLOW_AFTER_S", 0.3)
    monkeypatch.delenv("NO_COLOR", raising=False)
    if terminal:
        monkeypatch.setenv("FORCE_COLOR", "1")  # rich treats stderr as a terminal: a spinner
    else:
        monkeypatch.delenv("FORCE_COLOR", raising=False)
    endpoint = f"http://127.0.0.1:{silent.port}"
    code = run(["-c", str(config), "--endpoint-url", endpoint, "plan"])
    _, err = capsys.readouterr()
    assert code == 4
    waiting = f"waiting for {endpoint} (sts:GetCallerIdentity, "
    assert waiting in err
    if terminal:
        # a spinner frame before the text: the live display, not the one-line notice
        assert re.search(r"[\u2800-\u28ff](\x1b\[0m)? waiting for ", err), err[:300]
    else:
        assert err.count(waiting) == 1  # one line in a pipe, not one per tick
    errors = [line for line in err.splitlines() if "Error:" in line]
    assert len(errors) == 1 and endpoint in errors[0], err
    assert "Hint:" in err


# --- errors in a form the protocol does not use -----------------------------------------------


@pytest.mark.parametrize(
    ("service", "call"),
    [
        ("ecr", lambda c: c.ecr.describe_pull_through_cache_rules()),
        ("secretsmanager", lambda c: c.secretsmanager.list_secrets()),
        ("iam", lambda c: c.iam.list_roles()),
    ],
)
def test_a_refused_call_is_one_line_whatever_form_its_error_came_in(
    service: str, call: object
) -> None:
    """moto with its IAM checks on answers an unknown key with the query protocol's XML, also
    to JSON-protocol services (ECR, Secrets Manager): botocore then hands over the raw XML as
    the message and "403" as the code. The user sees the error's own code and message."""
    from moto import mock_aws
    from moto.core import set_initial_no_auth_action_count

    from ecrcache.errors import AwsAccessError

    assert callable(call)

    @set_initial_no_auth_action_count(0)
    @mock_aws
    def refused() -> AwsError:
        session = boto3.session.Session(
            region_name="af-south-1",
            aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
            aws_secret_access_key="not-a-key",
        )
        c = Clients(session, "af-south-1")
        with pytest.raises(AwsError) as info, aws_errors(f"read {service}"):
            call(c)
        return info.value

    exc = refused()
    assert isinstance(exc, AwsAccessError)  # the access error it is, exit 3
    assert exc.aws_code == "InvalidClientTokenId"
    assert exc.message == (
        f"cannot read {service}: InvalidClientTokenId: "
        "The security token included in the request is invalid."
    )


@pytest.mark.usefixtures("short_read_timeout")
def test_the_sandbox_clients_are_not_timed(silent: SilentListener) -> None:
    """The sandbox answers in-process under AWS's URL: a slow moment is no endpoint to name.
    (Its clients are pointed at the silent listener here only to hold a call in flight.)"""
    c = Clients(
        boto3.session.Session(region_name="af-south-1"),
        "af-south-1",
        f"http://127.0.0.1:{silent.port}",
        sandbox=True,
    )

    def call() -> None:
        with contextlib.suppress(botocore.exceptions.ReadTimeoutError):
            c.sts.get_caller_identity()

    worker = threading.Thread(target=call)
    worker.start()
    deadline = time.monotonic() + 10
    while not silent.accepted and time.monotonic() < deadline:
        time.sleep(0.05)
    assert silent.accepted  # the call is in flight...
    assert endpointwait.slowest(after=0) is None  # ...and not timed
    worker.join(timeout=10)
