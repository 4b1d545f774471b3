"""``ecrcache rewrite`` on the shapes of issue 13 end to end: the --interpolation-defaults option,
digest notes that --strict does not count, and files ecrcache cannot read safely (a Dockerfile
cut off by a lone line continuation, YAML nested far too deep) as one-line errors, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ecrcache.cli.app import run

DATA = Path(__file__).resolve().parents[1] / "data" / "rewrite"
HOST = "123456789012.dkr.ecr.af-south-1.amazonaws.com"
BASE = ["-c", str(DATA / "ecrcache.toml"), "rewrite", "--account-id", "123456789012"]
D = "sha256:" + "cd" * 32
COMPOSE = "services:\n  app:\n    image: ${APP_IMAGE:-ghcr.io/org/app}:${TAG:-1}\n"


@pytest.fixture(autouse=True)
def _no_ambient_account(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCOUNT_ID", raising=False)


def test_interpolation_defaults_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text(COMPOSE)
    assert run([*BASE, "--file", "--strict", str(path)]) == 1  # refused: left unchanged
    assert "--interpolation-defaults rewrites the default" in capsys.readouterr().err
    assert run([*BASE, "--file", "--in-place", "--interpolation-defaults", str(path)]) == 0
    assert path.read_text() == (
        f"services:\n  app:\n    image: ${{APP_IMAGE:-{HOST}/github/org/app}}:${{TAG:-1}}\n"
    )


def test_digest_note_is_shown_and_strict_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert run([*BASE, "--strict", f"nginx@{D}"]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"{HOST}/docker-hub/library/nginx@{D}\n"
    assert "containers-roadmap#2837" in captured.err


def test_digest_note_in_files_and_strict_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pod.yaml"
    path.write_text(f"image: quay.io/a/b:1@{D}\n")
    assert run([*BASE, "--file", "--strict", "--check", str(path)]) == 1  # would change
    err = capsys.readouterr().err
    assert f"{path}:1: quay.io/a/b:1@{D}: pinned by digest" in " ".join(err.split())


def _one_line_error(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    out = subprocess.run(
        [sys.executable, "-m", "ecrcache", *BASE, "--file", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 2, out.stderr  # bad input, the README's exit-code table
    assert out.stdout == ""
    assert "Traceback" not in out.stderr
    return " ".join(out.stderr.split())


def test_lone_line_continuation_dockerfile_is_a_clear_error(tmp_path: Path) -> None:
    err = _one_line_error(tmp_path, "Dockerfile", "\\\n")
    assert "Dockerfile:1: a line continuation (\\) with no instruction; not rewritten" in err


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000 + "]" * 100_000, "a:\n" + "".join(" " * i + "b:\n" for i in range(1, 3000))],
    ids=["flow", "block"],
)
def test_deeply_nested_yaml_is_a_clear_error(tmp_path: Path, text: str) -> None:
    """libyaml's binding would overflow the C stack here (a crash), the pure-Python composer
    raise RecursionError: ecrcache measures the depth first."""
    err = _one_line_error(tmp_path, "deep.yaml", text)
    assert "deep.yaml:" in err and "nested too deep to read safely" in err


def test_cli_json_on_corpus_real2_matches_the_expected_edits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same expectations as tests/unit/test_rewrite_corpora.py, through the command: every
    edit in the JSON, and every warning and note among its warnings."""
    import json
    import shutil

    corpus = Path(__file__).resolve().parents[3] / "shared" / "corpus-real2"
    if not corpus.is_dir():
        pytest.skip(f"corpus not found at {corpus} (CI checks it out beside the repository)")
    expected = json.loads((DATA / "corpora_expected.json").read_text())
    tree = tmp_path / "corpus-real2"
    shutil.copytree(corpus, tree)
    assert run([*BASE, "-o", "json", "--file", "--check", str(tree)]) == 1
    doc = json.loads(capsys.readouterr().out)
    got = sorted(
        (Path(e["file"]).name, e["line"], e["before"], e["after"]) for e in doc["data"]["edits"]
    )
    want = sorted(
        (key.split("/")[1], line, before, after.replace("{registry}", HOST))
        for key, entry in expected.items()
        if key.startswith("corpus-real2/") and not key.endswith("--interpolation-defaults")
        for line, before, after in entry["edits"]
    )
    assert got == want
    said = [" ".join(w.split()) for w in doc["warnings"]]
    for key, entry in expected.items():
        if key.startswith("corpus-real2/") and not key.endswith("--interpolation-defaults"):
            for line, message in entry["warnings"] + entry["notes"]:
                text = f"{tree / key.split('/')[1]}:{line}: {message.replace('{registry}', HOST)}"
                assert " ".join(text.split()) in said


def test_check_exits_1_for_changes_and_2_for_a_file_it_cannot_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--check keeps exit 1 for "would change" (as terraform fmt -check and pre-commit hooks do);
    a file it cannot read safely is bad input, exit 2, even under --check."""
    changes = tmp_path / "pod.yaml"
    changes.write_text("image: nginx:1.25\n")
    assert run([*BASE, "--file", "--check", str(changes)]) == 1
    assert changes.read_text() == "image: nginx:1.25\n"
    broken = tmp_path / "Dockerfile"
    broken.write_text("\\\n")
    assert run([*BASE, "--file", "--check", str(broken)]) == 2
    assert "not rewritten" in capsys.readouterr().err
