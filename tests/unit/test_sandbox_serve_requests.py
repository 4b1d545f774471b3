"""sandbox serve's middleware: which requests can change the account, and that a change is saved
before it is answered (and not answered as a success when it could not be saved)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from ecrcache.sandbox.serve import StateKeepingApp, StateSaver, may_change_state, operation

KEY_ID = "AKIASERVETESTKEY0000"
AUTH = (
    f"AWS4-HMAC-SHA256 Credential={KEY_ID}/20261201/{{region}}/{{service}}/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=0123abcd"
)


def _json_request(service: str, target: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "HTTP_AUTHORIZATION": AUTH.format(region="af-south-1", service=service),
        "HTTP_X_AMZ_TARGET": target,
        "CONTENT_TYPE": "application/x-amz-json-1.1",
        "wsgi.input": io.BytesIO(b"{}"),
    }


def _query_request(service: str, body: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "HTTP_AUTHORIZATION": AUTH.format(region="us-east-1", service=service),
        "CONTENT_TYPE": "application/x-www-form-urlencoded; charset=utf-8",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body.encode()),
    }


@pytest.mark.parametrize(
    ("environ", "expected", "changes"),
    [
        (
            _json_request("ecr", "AmazonEC2ContainerRegistry_V20150921.CreateRepository"),
            ("ecr", "CreateRepository"),
            True,
        ),
        (
            _json_request("ecr", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories"),
            ("ecr", "DescribeRepositories"),
            False,
        ),
        (
            _json_request("secretsmanager", "secretsmanager.GetSecretValue"),
            ("secretsmanager", "GetSecretValue"),
            False,
        ),
        (
            _query_request(
                "iam", "Action=CreatePolicyVersion&Version=2010-05-08&SetAsDefault=true"
            ),
            ("iam", "CreatePolicyVersion"),
            True,
        ),
        (
            _query_request("sts", "Action=GetCallerIdentity&Version=2011-06-15"),
            ("sts", "GetCallerIdentity"),
            False,
        ),
    ],
)
def test_operation_and_whether_it_may_change_the_account(
    environ: dict[str, Any], expected: tuple[str, str], changes: bool
) -> None:
    body = environ["wsgi.input"].getvalue()
    assert operation(environ) == expected
    assert may_change_state(environ, expected[1]) is changes
    assert environ["wsgi.input"].read() == body  # the body is still there for moto
    assert KEY_ID not in " ".join(expected)


def test_moto_api_and_rest_requests_are_judged_by_method() -> None:
    reset = {"REQUEST_METHOD": "POST", "PATH_INFO": "/moto-api/reset"}
    dashboard = {"REQUEST_METHOD": "GET", "PATH_INFO": "/moto-api/"}
    assert operation(reset) == ("", "")
    assert may_change_state(reset, "") and not may_change_state(dashboard, "")
    assert may_change_state({"REQUEST_METHOD": "DELETE", "PATH_INFO": "/x"}, "")
    assert not may_change_state({"REQUEST_METHOD": "GET", "PATH_INFO": "/x"}, "")


class _RecordingSaver(StateSaver):
    def __init__(self, events: list[str], fail: bool = False) -> None:
        super().__init__(Path("/nonexistent/state"))
        self.events = events
        self.fail = fail

    def encode(self) -> bytes:
        return b"state"

    def write(self, data: bytes) -> bool:
        self.events.append("save")
        if self.fail:
            raise OSError(28, "No space left on device")
        return True


def _run(app: StateKeepingApp, environ: dict[str, Any], events: list[str]) -> tuple[str, bytes]:
    got: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        events.append("answer")
        got.append(status)

    answer = app(environ, start_response)
    body = b"".join(answer)
    getattr(answer, "close", lambda: None)()  # as a WSGI server does, once it is sent
    return got[0], body


def _backend(events: list[str]) -> Any:
    def backend(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        events.append("moto")
        start_response("200 OK", [("Content-Type", "application/x-amz-json-1.1")])
        return [b'{"repository": {}}']

    return backend


def test_a_change_is_saved_before_it_is_answered() -> None:
    events: list[str] = []
    lines: list[str] = []
    app = StateKeepingApp(_backend(events), _RecordingSaver(events), lines.append)
    create = _json_request("ecr", "AmazonEC2ContainerRegistry_V20150921.CreateRepository")
    assert _run(app, create, events) == ("200 OK", b'{"repository": {}}')
    assert events == ["moto", "save", "answer"]
    events.clear()
    describe = _json_request("ecr", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories")
    _run(app, describe, events)
    assert events == ["moto", "answer"]  # a read is not saved
    assert lines[0].endswith("ecr.CreateRepository 200 (saved)")
    assert lines[1].endswith("ecr.DescribeRepositories 200")


def test_a_change_that_could_not_be_saved_is_not_answered_as_a_success() -> None:
    events: list[str] = []
    lines: list[str] = []
    app = StateKeepingApp(_backend(events), _RecordingSaver(events, fail=True), lines.append)
    create = _json_request("ecr", "AmazonEC2ContainerRegistry_V20150921.CreateRepository")
    status, body = _run(app, create, events)
    assert status.startswith("500") and b"InternalFailure" in body
    assert any("cannot save the sandbox state" in line for line in lines)
    assert any("No space left on device" in line for line in lines)


def test_a_stopping_server_refuses_new_requests() -> None:
    events: list[str] = []
    app = StateKeepingApp(_backend(events), _RecordingSaver(events), lambda _: None)
    assert app.close(timeout=1.0) is True
    status, _ = _run(app, _json_request("ecr", "x.CreateRepository"), events)
    assert status.startswith("503") and "moto" not in events


def test_an_error_inside_moto_is_one_line_a_500_and_still_saved() -> None:
    events: list[str] = []
    lines: list[str] = []

    def broken(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        events.append("moto")
        raise TypeError("'NoneType' object is not iterable: secret-ish request text")

    app = StateKeepingApp(broken, _RecordingSaver(events), lines.append)
    put = _json_request("ecr", "x.PutRegistryScanningConfiguration")
    status, body = _run(app, put, events)
    assert status.startswith("500") and b"InternalFailure" in body and b"TypeError" in body
    assert events == ["moto", "save", "answer"]  # it may have changed something: the file follows
    assert len(lines) == 1 and "ecr.PutRegistryScanningConfiguration 500 (TypeError at" in lines[0]
    assert "secret-ish" not in lines[0] and b"secret-ish" not in body
