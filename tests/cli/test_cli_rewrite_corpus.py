"""Every corpus file, rewritten in place by the CLI and read again: the expected references, and
a diff that touches only reference bytes. The corpus lives beside the checkout (../shared)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from ecrcache.cli.app import run

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"
DATA = REPO / "tests" / "data" / "rewrite"
EXPECTED: dict[str, Any] = json.loads((DATA / "corpus_expected.json").read_text())
HOST = "123456789012.dkr.ecr.af-south-1.amazonaws.com"
FILES = sorted(k for k in EXPECTED if not k.startswith("_"))

pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"corpus not found at {CORPUS} (CI checks it out beside the repo)"
)


def edits_of(name: str) -> list[tuple[int, str, str]]:
    return [(line, b, a.replace("{registry}", HOST)) for line, b, a in EXPECTED[name]["edits"]]


@pytest.fixture
def rewritten(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[str, str]:
    name = request.param
    copy = tmp_path / name
    shutil.copyfile(CORPUS / name, copy)
    argv = ["-c", str(DATA / "ecrcache.toml"), "rewrite", "--account-id", "123456789012"]
    assert run([*argv, "--file", "--in-place", str(copy)]) == 0
    assert run([*argv, "--file", "--check", str(copy)]) == 0  # idempotent
    return (CORPUS / name).read_text(), copy.read_text()


@pytest.mark.parametrize("rewritten", FILES, indirect=True, ids=FILES)
def test_diff_touches_only_reference_bytes(rewritten: tuple[str, str], request: Any) -> None:
    name = request.node.callspec.id
    before, after = rewritten
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    assert len(old) == len(new)
    expected = {line: (b, a) for line, b, a in edits_of(name)}
    for number, (o, n) in enumerate(zip(old, new, strict=True), start=1):
        if number in expected:
            b, a = expected.pop(number)
            assert o.count(b) == 1 and n == o.replace(b, a), f"line {number}"
        else:
            assert n == o, f"line {number} changed"
    assert not expected


def _images(node: Any, key: str = "") -> list[str]:
    """The references a chart or manifest would render: image strings and registry/repository."""
    if isinstance(node, list):
        return [r for item in node for r in _images(item, key)]
    if not isinstance(node, dict):
        return []
    out = []
    if isinstance(node.get("repository"), str) and "image" in key.lower():
        reg = node.get("registry")
        out.append(f"{reg}/{node['repository']}" if reg else node["repository"])
    for k, v in node.items():
        if k == "image" and isinstance(v, str):
            out.append(v)
        else:
            out += _images(v, f"{key}.{k}" if isinstance(v, dict) else str(k))
    return out


YAML_FILES = [f for f in FILES if EXPECTED[f]["kind"] != "dockerfile"]


@pytest.mark.parametrize("rewritten", YAML_FILES, indirect=True, ids=YAML_FILES)
def test_yaml_renders_the_expected_references(rewritten: tuple[str, str], request: Any) -> None:
    name = request.node.callspec.id
    before, after = rewritten
    old_docs = list(yaml.safe_load_all(before))
    new_docs = list(yaml.safe_load_all(after))
    old_refs, new_refs = _images(old_docs), _images(new_docs)
    assert len(old_refs) == len(new_refs)
    changed = {(o, n) for o, n in zip(old_refs, new_refs, strict=True) if o != n}
    assert changed, "nothing was rewritten"
    for o, n in changed:
        # The registry (a first component with a dot) is replaced; the path is kept whole.
        first, slash, rest = o.partition("/")
        tail = rest if slash and "." in first else o
        assert n.startswith(HOST + "/") and n.endswith("/" + tail), (o, n)
    # Everything but the edited values reads back the same.
    edits = {b: a for _, b, a in edits_of(name)}
    assert new_docs == _replace(old_docs, edits)


def _replace(node: Any, edits: dict[str, str], key: str = "") -> Any:
    if isinstance(node, list):
        return [_replace(v, edits, key) for v in node]
    if isinstance(node, dict):
        return {k: _replace(v, edits, str(k)) for k, v in node.items()}
    if key in ("image", "registry", "repository") and node in edits:
        return edits[node]
    return node


def test_dockerfile_from_lines_point_at_the_cache(tmp_path: Path) -> None:
    name = "buildx.Dockerfile"
    copy = tmp_path / name
    shutil.copyfile(CORPUS / name, copy)
    argv = ["-c", str(DATA / "ecrcache.toml"), "rewrite", "--account-id", "123456789012"]
    assert run([*argv, "-f", "-i", str(copy)]) == 0
    text = copy.read_text()
    stages = {m.lower() for m in re.findall(r"(?im)^FROM .* AS (\S+)$", text)}
    for image in re.findall(r"(?m)^FROM (?:--\S+ )*(\S+)", text):
        if image.lower() in stages | {"scratch"} or image.startswith("binaries"):
            continue
        assert image.startswith(f"{HOST}/docker-hub/"), image
    assert text.startswith(f"# syntax={HOST}/docker-hub/docker/dockerfile:1.3\n")
    assert "${GO_VERSION}-alpine AS golatest" in text
