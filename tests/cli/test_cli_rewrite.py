"""``ecrcache rewrite`` end to end: the reference tables, strings and stdin, files, exit codes,
JSON, and no boto3 when account and region are known."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ecrcache.cli.app import run

DATA = Path(__file__).resolve().parents[1] / "data" / "rewrite"
TABLES: dict[str, Any] = json.loads((DATA / "reference_tables.json").read_text())
HOST = "123456789012.dkr.ecr.af-south-1.amazonaws.com"
BASE = ["-c", str(DATA / "ecrcache.toml"), "rewrite", "--account-id", "123456789012"]


@pytest.fixture(autouse=True)
def _no_ambient_account(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCOUNT_ID", raising=False)


def _suffix(text: str) -> str:
    """The tag and digest as written (no table case has a port in its last component)."""
    last = text.rsplit("/", 1)[-1]
    cut = [i for i in (last.find(":"), last.find("@")) if i >= 0]
    return last[min(cut) :] if cut else ""


def _valid_cases() -> list[tuple[str, str]]:
    """(input, expected output), the expectation built from the tables' own columns."""
    cases = []
    for c in TABLES["normalize_test.go:TestParseRepositoryInfo"]:
        for text in filter(None, (c["FamiliarName"], c["FullName"], c["AmbiguousName"])):
            hub = c["Domain"] == "docker.io"
            cases.append((text, f"{HOST}/docker-hub/{c['RemoteName']}" if hub else text))
    for c in TABLES["normalize_test.go:TestNormalizedSplitHostname"]:
        hub = c["domain"] == "docker.io"
        cases.append((c["input"], f"{HOST}/docker-hub/{c['path']}" if hub else c["input"]))
    for c in TABLES["normalize_test.go:TestParseAnyReference"]:
        if not c["digest_only"]:
            cases.append(
                (c["Reference"], HOST + "/docker-hub/" + c["Equivalent"][len("docker.io/") :])
            )
    for c in TABLES["normalize_test.go:TestParseDockerRef"]:
        domain, _, rest = c["expected"].partition("/")
        path = rest.split("@")[0].removesuffix(":latest")
        hub = domain == "docker.io"
        cases.append(
            (c["input"], f"{HOST}/docker-hub/{path}{_suffix(c['input'])}" if hub else c["input"])
        )
    for c in TABLES["normalize_test.go:TestParseReferenceWithTagAndDigest"]:
        cases.append((c["input"], f"{HOST}/docker-hub/library/{c['input']}"))
    return cases


VALID = _valid_cases()
NAMES_VALID = [
    n
    for t in (
        "normalize_test.go:TestValidateReferenceName",
        "normalize_test.go:TestValidateRemoteName",
    )
    for n in TABLES[t]["valid"]
]
INVALID = sorted(
    {
        n
        for t in (
            "normalize_test.go:TestValidateReferenceName",
            "normalize_test.go:TestValidateRemoteName",
        )
        for n in TABLES[t]["invalid"]
    }
    | {
        c["Reference"]
        for c in TABLES["normalize_test.go:TestParseAnyReference"]
        if c["digest_only"]
    }
    | {
        c["input"]
        for c in TABLES["reference_test.go:TestReferenceParse"]
        if c["err"] and c["input"]
    }
)


def test_every_valid_table_case_rewrites(capsys: pytest.CaptureFixture[str]) -> None:
    assert run([*BASE, "--", *(text for text, _ in VALID)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [expected for _, expected in VALID]
    assert len(out) >= 60


@pytest.mark.parametrize("name", NAMES_VALID)
def test_every_valid_name_rewrites_or_stays(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run([*BASE, "--", name]) == 0
    out = capsys.readouterr().out
    assert out == f"{name}\n" or out.startswith(f"{HOST}/docker-hub/")


@pytest.mark.parametrize("text", INVALID, ids=[t[:50] for t in INVALID])
def test_every_invalid_case_exits_2_with_a_message(
    text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run([*BASE, "--", text]) == 2  # "--": some cases start with "-"
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "invalid image reference" in captured.err
    assert "Traceback" not in captured.err


def test_stdin_one_per_line_in_order(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Blank lines and # comments (whole-line or after a reference) are skipped."""
    text = "# images\nnginx:1\n\n  quay.io/a/b  # ours\n   # gone\ngcr.io/x/y:2\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    assert run(BASE) == 0
    captured = capsys.readouterr()
    assert captured.out == f"{HOST}/docker-hub/library/nginx:1\n{HOST}/quay/a/b\ngcr.io/x/y:2\n"
    assert "no pull-through cache rule for gcr.io" in captured.err


def test_strict_fails_on_unmapped(capsys: pytest.CaptureFixture[str]) -> None:
    assert run([*BASE, "--strict", "nginx", "gcr.io/x/y"]) == 1
    assert capsys.readouterr().out == ""


def test_reverse(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        run([*BASE, "--reverse", f"{HOST}/github/o/r:1", f"{HOST}/docker-hub/library/nginx"]) == 0
    )
    assert capsys.readouterr().out == "ghcr.io/o/r:1\ndocker.io/library/nginx\n"


def test_account_and_region_from_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ACCOUNT_ID", "999988887777")
    argv = ["-c", str(DATA / "ecrcache.toml"), "--region", "eu-west-1", "rewrite", "nginx"]
    assert run(argv) == 0
    assert (
        capsys.readouterr().out
        == "999988887777.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/library/nginx\n"
    )


def test_json_strings(capsys: pytest.CaptureFixture[str]) -> None:
    assert run([*BASE, "-o", "json", "nginx", "gcr.io/x/y"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["data"]["references"] == [
        {"input": "nginx", "output": f"{HOST}/docker-hub/library/nginx", "changed": True},
        {"input": "gcr.io/x/y", "output": "gcr.io/x/y", "changed": False},
    ]
    assert len(doc["warnings"]) == 1


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "app.yaml").write_text("spec:\n  containers:\n  - image: nginx:1 # web\n")
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\n")
    (tmp_path / "same.yaml").write_text("image: gcr.io/x/y\n")
    return tmp_path


def test_check_then_in_place_then_check(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = (tree / "k8s" / "app.yaml").read_text()
    assert run([*BASE, "--file", "--check", str(tree)]) == 1
    assert (tree / "k8s" / "app.yaml").read_text() == before
    assert run([*BASE, "--file", "--in-place", str(tree)]) == 0
    assert (tree / "k8s" / "app.yaml").read_text() == (
        f"spec:\n  containers:\n  - image: {HOST}/docker-hub/library/nginx:1 # web\n"
    )
    assert (tree / "Dockerfile").read_text() == f"FROM {HOST}/docker-hub/library/python:3.12\n"
    assert run([*BASE, "--file", "--check", str(tree)]) == 0
    assert capsys.readouterr().out == ""


def test_in_place_keeps_permissions(tree: Path) -> None:
    path = tree / "Dockerfile"
    path.chmod(0o640)
    assert run([*BASE, "-f", "-i", str(path)]) == 0
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tree.iterdir() if p.name.endswith(".tmp")] == []


def test_diff(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run([*BASE, "--file", "--diff", str(tree / "Dockerfile")]) == 0
    out = capsys.readouterr().out
    assert "-FROM python:3.12\n" in out
    assert f"+FROM {HOST}/docker-hub/library/python:3.12\n" in out


def test_single_file_is_printed_rewritten(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run([*BASE, "--file", str(tree / "Dockerfile")]) == 0
    assert capsys.readouterr().out == f"FROM {HOST}/docker-hub/library/python:3.12\n"


def test_json_lists_every_edit(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run([*BASE, "-o", "json", "--file", str(tree)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["data"]["edits"] == [
        {
            "file": str(tree / "Dockerfile"),
            "line": 1,
            "before": "python:3.12",
            "after": f"{HOST}/docker-hub/library/python:3.12",
        },
        {
            "file": str(tree / "k8s" / "app.yaml"),
            "line": 3,
            "before": "nginx:1",
            "after": f"{HOST}/docker-hub/library/nginx:1",
        },
    ]
    assert doc["data"]["written"] is False


@pytest.mark.parametrize(
    "extra",
    [
        ["--file", "--check", "--in-place"],
        ["--in-place", "nginx"],
        ["--file"],
        ["--file", "nope.txt"],
    ],
)
def test_usage_errors_exit_2(extra: list[str], tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    (tree / "nope.txt").write_text("x")
    args = [*extra, str(tree)] if extra[0] == "--file" and len(extra) > 2 else extra
    assert run([*BASE, *args]) == 2


def test_several_files_need_an_action(tree: Path) -> None:
    assert run([*BASE, "--file", str(tree)]) == 2


def test_no_boto3_when_account_and_region_are_known() -> None:
    code = (
        "import sys\n"
        "from ecrcache.cli.app import run\n"
        f"rc = run({[*BASE, 'nginx']!r})\n"
        "print(rc, 'boto3' in sys.modules, 'botocore' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "AWS_ACCOUNT_ID"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.splitlines()[-1] == "0 False False"
    assert out.stdout.startswith(f"{HOST}/docker-hub/library/nginx\n")


def test_unknown_account_asks_sts_in_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("moto")
    from ecrcache.sandbox.runtime import SANDBOX_ACCOUNT_ID

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    argv = ["-c", str(DATA / "ecrcache.toml"), "--sandbox", "rewrite", "nginx"]
    assert run(argv) == 0
    assert capsys.readouterr().out == (
        f"{SANDBOX_ACCOUNT_ID}.dkr.ecr.af-south-1.amazonaws.com/docker-hub/library/nginx\n"
    )
