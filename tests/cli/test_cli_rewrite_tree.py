"""``ecrcache rewrite`` over whole trees and stdin: this repository left untouched, links and
modes kept, ``-`` for stdin, empty arguments refused, the size cap."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sys
from pathlib import Path

import pytest
from tests.cli.cli_support import cli

from ecrcache.rewrite.sources import MAX_BYTES

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "rewrite"
HOST = "123456789012.dkr.ecr.af-south-1.amazonaws.com"
BASE = ["-c", str(DATA / "ecrcache.toml"), "rewrite", "--account-id", "123456789012"]
NGINX = f"{HOST}/docker-hub/library/nginx"


@pytest.fixture(autouse=True)
def _no_ambient_account(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCOUNT_ID", raising=False)


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def test_this_repository_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`rewrite --file . --in-place` on a copy of this repository changes nothing under src/
    and tests/ (src/ecrcache/rewrite/dockerfile.py is Python, not a Dockerfile), skips .git
    and what .gitignore ignores, and still rewrites a real manifest added beside them."""
    copy = tmp_path / "repo"
    caches = (".git", "*.egg-info", ".*_cache", ".hypothesis", "__pycache__", ".benchmarks")
    shutil.copytree(REPO, copy, symlinks=True, ignore=shutil.ignore_patterns(*caches))
    (copy / ".git").mkdir()
    (copy / ".git" / "stash.yaml").write_text("image: nginx\n")
    (copy / "build").mkdir()  # the repository's .gitignore has build/
    (copy / "build" / "out.yaml").write_text("image: nginx\n")
    (copy / "deploy").mkdir()
    (copy / "deploy" / "app.yaml").write_text("image: nginx # web\n")
    before = {part: _hashes(copy / part) for part in ("src", "tests", ".git", "build")}
    assert len(before["src"]) > 50 and len(before["tests"]) > 50
    monkeypatch.chdir(copy)
    code, _, err = cli(capsys, *BASE, "--file", "--in-place", ".")
    assert (code, err.splitlines()[-1]) == (0, "rewrote 1 reference in 1 file")
    assert {part: _hashes(copy / part) for part in before} == before
    assert (copy / "deploy" / "app.yaml").read_text() == f"image: {NGINX} # web\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("rendered/\n")
    (tmp_path / "rendered").mkdir()
    (tmp_path / "rendered" / "all.yaml").write_text("image: nginx\n")
    (tmp_path / "charts").mkdir()
    (tmp_path / "charts" / "values.yaml").write_text("image: nginx:1\n")
    (tmp_path / "a-values.yaml").symlink_to("charts/values.yaml")
    (tmp_path / "Dockerfile.build").write_text("FROM nginx AS b\n")
    (tmp_path / "Dockerfile.build").chmod(0o755)
    (tmp_path / "logo.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\0\0")
    return tmp_path


def test_in_place_over_a_tree(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, *BASE, "-o", "json", "--file", "--in-place", str(tree))
    assert code == 0
    doc = json.loads(out)
    assert [f["file"] for f in doc["data"]["files"]] == [
        str(tree / "Dockerfile.build"),
        str(tree / "a-values.yaml"),  # the link, found first; its target is not read twice
    ]
    assert doc["warnings"] == [f"{tree / 'logo.yaml'}: a binary file; skipped"]
    assert (tree / "a-values.yaml").is_symlink()
    assert (tree / "charts" / "values.yaml").read_text() == f"image: {NGINX}:1\n"
    assert (tree / "Dockerfile.build").read_text() == f"FROM {NGINX} AS b\n"
    assert (tree / "Dockerfile.build").stat().st_mode & 0o7777 == 0o755
    assert (tree / "rendered" / "all.yaml").read_text() == "image: nginx\n"  # gitignored


@pytest.mark.parametrize(
    ("text", "extra", "expected"),
    [
        ("FROM nginx\n", [], f"FROM {NGINX}\n"),
        (
            "# syntax=docker/dockerfile:1\nFROM nginx\n",
            [],
            f"# syntax={HOST}/docker-hub/docker/dockerfile:1\nFROM {NGINX}\n",
        ),
        ("image: nginx\n", [], f"image: {NGINX}\n"),
        ("services:\n  web:\n    image: nginx\n", ["--kind", "compose"], None),
        ("FROM nginx\n", ["--kind", "yaml"], "FROM nginx\n"),  # --kind wins over the guess
    ],
)
def test_file_text_on_stdin(
    text: str,
    extra: list[str],
    expected: str | None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    code, out, _ = cli(capsys, *BASE, "--file", *extra, "-")
    assert code == 0
    assert out == (expected if expected is not None else text.replace("nginx", NGINX))


def test_stdin_that_is_neither_needs_a_kind(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("nginx:1\n"))
    code, out, err = cli(capsys, *BASE, "--file", "-")
    assert (code, out) == (2, "")
    assert "cannot tell whether stdin is a Dockerfile or YAML" in err
    assert "--kind" in err


def test_dash_alone_reads_references(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("nginx # web\n#x\n\n"))
    assert cli(capsys, *BASE, "-")[:2] == (0, f"{NGINX}\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([""], "an empty reference"),
        (["nginx", "  "], "an empty reference"),
        (["--file", ""], "an empty path"),
        (["--file", "--check", "", "."], "an empty path"),
        (["--file", "-", "x.yaml"], "cannot be mixed"),
        (["--file", "--in-place", "-"], "stdin cannot be rewritten in place"),
        (["--kind", "yaml", "nginx"], "work on files"),
        (["--file", "--kind", "json", "-"], "--kind 'json': not one of dockerfile, yaml, compose"),
    ],
)
def test_usage_errors(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, *BASE, *args)
    assert (code, out) == (2, "")
    assert message in err
    assert "Traceback" not in err


def test_size_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as f:
        f.truncate(MAX_BYTES + 4096)  # sparse
    code, _, err = cli(capsys, *BASE, "--file", str(big))
    assert code == 2
    assert f"{big}: 64.0 MiB, more than rewrite reads (64 MiB)" in err
    with big.open("rb") as stdin:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(stdin))
        code, _, err = cli(capsys, *BASE, "--file", "-")
    assert code == 2
    assert "stdin: more than rewrite reads (64 MiB)" in err
