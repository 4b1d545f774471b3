"""Both corpora of real files (../shared/corpus, ../shared/corpus-real2), rewritten exactly as
tests/data/rewrite/corpora_expected.json says: every edit, warning and note, nothing more.

The expectations were decided by reading each file: Helm charts by how their templates render
the values (ingress-nginx: ``global.image.registry`` + ``image``, so the global becomes the cache
host and each ``image`` gains the rule's prefix; Bitnami and Loki: ``registry`` + ``repository``
with an empty global), Kustomize ``images:`` by ``newName``, Compose through ``<<: *anchor``
(redash's ``x-`` block: once, at the anchor; sentry's built images are skipped), template
expressions (Argo, Tekton, Superset) and variable names left alone, digests rewritten with a note.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from ecrcache.config.loading import load_config
from ecrcache.config.upstreams import registry_host
from ecrcache.rewrite import yamlparse
from ecrcache.rewrite.files import rewrite_file_text
from ecrcache.rewrite.mapping import Mapping, routes_from_rules

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
DATA = REPO / "tests" / "data" / "rewrite"
EXPECTED: dict[str, Any] = json.loads((DATA / "corpora_expected.json").read_text())
HOST = registry_host("123456789012", "af-south-1")
MAPPING = Mapping(routes_from_rules(load_config(DATA / "ecrcache.toml").rule_list), HOST)
KEYS = sorted(k for k in EXPECTED if not k.startswith("_"))
OPTION = " --interpolation-defaults"

pytestmark = pytest.mark.skipif(
    not (SHARED / "corpus-real2").is_dir(),
    reason=f"corpora not found under {SHARED} (CI checks them out beside the repository)",
)


def _fill(rows: list[list[Any]]) -> list[tuple[Any, ...]]:
    return [
        tuple(c.replace("{registry}", HOST) if isinstance(c, str) else c for c in r) for r in rows
    ]


def test_every_corpus_file_has_an_expectation() -> None:
    files = {
        f"{corpus}/{p.name}"
        for corpus in ("corpus", "corpus-real2")
        for p in (SHARED / corpus).iterdir()
        if p.name != "README.md"
    }
    assert files == {k.removesuffix(OPTION) for k in KEYS}
    assert len(files) == 22


@pytest.mark.parametrize("key", KEYS)
def test_rewritten_exactly(key: str) -> None:
    name = key.removesuffix(OPTION)
    path = SHARED / name
    text = path.read_text()
    result = rewrite_file_text(path, text, MAPPING, interpolation_defaults=key.endswith(OPTION))
    want = EXPECTED[key]
    assert result.kind == want["kind"]
    assert [(e.line, e.before, e.after) for e in result.edits] == _fill(want["edits"])
    assert list(result.warnings) == _fill(want["warnings"])
    assert list(result.notes) == _fill(want["notes"])
    # Each edit replaces exactly its bytes on its line, and a second run changes nothing.
    lines = text.splitlines(keepends=True)
    for e in result.edits:
        assert e.before in lines[e.line - 1]
    again = rewrite_file_text(
        path, result.after, MAPPING, interpolation_defaults=key.endswith(OPTION)
    )
    assert not again.edits
    assert again.warnings == result.warnings


@pytest.mark.parametrize(
    "name", [k for k in KEYS if not k.endswith(OPTION) and "Dockerfile" not in k]
)
def test_libyaml_and_pure_python_give_the_same_marks(name: str) -> None:
    """The edits rest on node marks and tags: ecrcache's loader (libyaml's parser, a trimmed
    resolver) must place and tag every node as PyYAML's SafeLoader does (same character
    offsets, lines, values and tags)."""
    if yamlparse.CParser is None:
        pytest.skip("PyYAML is built without libyaml here")
    text = (SHARED / name).read_text()
    if len(text) > 300_000:
        text = text[:300_000].rsplit("\n---", 1)[0]  # argo-cd: its first 300 kB of documents

    def marks(loader: type) -> list[tuple[Any, ...]]:
        out: list[tuple[Any, ...]] = []
        stack = list(yaml.compose_all(text, Loader=loader))
        while stack:
            node = stack.pop()
            if node is None:
                continue
            scalar = isinstance(node, yaml.ScalarNode)
            value, style = (node.value, node.style or None) if scalar else (None, None)
            out.append(
                (
                    type(node).__name__,
                    node.start_mark.index,
                    node.end_mark.index,
                    node.start_mark.line,
                    node.tag,
                    value,
                    style,
                )
            )
            if isinstance(node, yaml.SequenceNode):
                stack += node.value
            elif isinstance(node, yaml.MappingNode):
                stack += [n for pair in node.value for n in pair]
        return out

    assert marks(yamlparse.Loader) == marks(yaml.SafeLoader)
