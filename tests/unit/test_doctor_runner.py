"""The runner: order (network last), gates, a crashing check reported while the others run,
access errors as warnings, severity deciding fail or warn; selection; fix commands; rendering."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from test_doctor_machine import context

from ecrcache.doctor.env import Env, MachinePaths
from ecrcache.doctor.fixes import Commands
from ecrcache.doctor.model import (
    Check,
    Finding,
    Fix,
    Need,
    Severity,
    Status,
    check,
    passed,
    problem,
)
from ecrcache.doctor.runner import run_checks, select
from ecrcache.errors import AwsAccessError, AwsError, UsageError
from ecrcache.render.doctor import render_report


def env(tmp_path: Path) -> Env:
    return Env(context=context(), commands=Commands(), paths=MachinePaths(docker_config=tmp_path))


@check("a.ok", "ok", Severity.ERROR, why="w")
def ok(env: Env) -> Finding:
    return passed("fine")


@check("a.boom", "boom", Severity.ERROR, why="w")
def boom(env: Env) -> Finding:
    raise KeyError("nope")


@check("a.denied", "denied", Severity.ERROR, why="w")
def denied(env: Env) -> Finding:
    raise AwsAccessError("cannot read: AccessDenied", operation="GetSecretValue")


@check("a.aws", "aws", Severity.ERROR, why="w")
def aws_error(env: Env) -> Finding:
    raise AwsError("cannot reach", hint="check the network")


@check("a.bad", "bad", Severity.ERROR, why="w")
def bad(env: Env) -> Finding:
    return problem("broken", Fix("mend it", ("do x",)))


@check("a.meh", "meh", Severity.WARNING, why="w")
def meh(env: Env) -> Finding:
    return problem("not ideal", Fix("tune it"))


@check("a.gated", "gated", Severity.ERROR, why="w", after=("a.bad",))
def gated(env: Env) -> Finding:
    raise AssertionError("must not run when its gate failed")


@check("n.net", "net", Severity.ERROR, why="w", needs=(Need.NETWORK,))
def net(env: Env) -> Finding:
    return passed("reached")


@check("c.cfg", "cfg", Severity.ERROR, why="w", needs=(Need.CONFIG,))
def needs_config(env: Env) -> Finding:
    raise AssertionError("must not run without a config")


ALL: tuple[Check, ...] = (net, ok, boom, denied, aws_error, bad, meh, gated, needs_config)


def test_a_crash_is_reported_and_the_others_run(tmp_path: Path) -> None:
    report = run_checks(ALL, select(ALL), env(tmp_path))
    by = {r.id: r for r in report.results}
    assert [r.id for r in report.results][-1] == "n.net"  # network last
    assert by["a.boom"].status is Status.CRASHED
    assert (
        "KeyError: 'nope'" in by["a.boom"].finding
        and "test_doctor_runner.py" in by["a.boom"].details[0]
    )
    assert by["a.ok"].status is Status.PASS and by["n.net"].status is Status.PASS
    assert by["a.denied"].status is Status.WARN and "GetSecretValue" in by["a.denied"].fix.summary  # type: ignore[union-attr]
    assert by["a.aws"].status is Status.FAIL and by["a.aws"].fix.summary == "check the network"  # type: ignore[union-attr]
    assert by["a.bad"].status is Status.FAIL and by["a.bad"].fix.commands == ("do x",)  # type: ignore[union-attr]
    assert by["a.meh"].status is Status.WARN  # a problem in a warning-severity check
    assert by["a.gated"].status is Status.SKIP and "a.bad did not pass" in by["a.gated"].finding
    assert by["c.cfg"].status is Status.SKIP and "config" in by["c.cfg"].finding
    assert not report.healthy
    assert report.summary() == {"pass": 2, "fail": 2, "warn": 2, "skip": 2, "crashed": 1}


def test_healthy_with_warnings_only(tmp_path: Path) -> None:
    report = run_checks(ALL, select(ALL, ["a.ok", "a.meh"]), env(tmp_path))
    assert report.healthy and [r.status for r in report.results] == [Status.PASS, Status.WARN]


def test_gate_runs_even_when_not_selected(tmp_path: Path) -> None:
    report = run_checks(ALL, select(ALL, ["a.gated"]), env(tmp_path))
    assert [r.id for r in report.results] == ["a.gated"]
    assert report.results[0].status is Status.SKIP


def test_select() -> None:
    assert [c.id for c in select(ALL, ["a"])][:2] == ["a.ok", "a.boom"]
    with pytest.raises(UsageError, match=r"did you mean 'a\.meh'"):
        select(ALL, ["a.meg"])


def test_render(tmp_path: Path) -> None:
    out = io.StringIO()
    render_report(run_checks(ALL, select(ALL), env(tmp_path)), out, no_color=True)
    text = out.getvalue()
    assert "CRASH  a.boom" in text and " FAIL  a.bad" in text
    assert "fix: mend it" in text and "$ do x" in text
    assert "problems found" in text


def test_commands_quote_and_carry_global_options() -> None:
    c = Commands(region="af-south-1", profile="prod", config_path="my config.toml", sandbox=True)
    assert (
        c.apply("--force") == "ecrcache --sandbox -c 'my config.toml' --profile prod apply --force"
    )
    assert c.aws("ecr", "x", "--y", '{"a":1}') == (
        "aws ecr x --y '{\"a\":1}' --region af-south-1 --profile prod"
    )
    assert c.aws_global("iam", "get-role") == "aws iam get-role --profile prod"


def test_ecr_token_expiry_never_returns_the_password() -> None:
    from ecrcache.doctor.files import decode_auth, ecr_token_expiry

    assert ecr_token_expiry("123456789012-auth-token") is None
    assert decode_auth("not base64!") is None
