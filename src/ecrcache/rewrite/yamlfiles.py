"""Image references in YAML: Kubernetes manifests, Helm values and Compose files.

Pure. As Renovate does, the YAML is parsed only to find where references are (PyYAML's node
marks give their exact character offsets); the edits then go to the original text, so comments,
quoting, key order, indentation, other documents and the final newline all survive.

- ``image: <reference>`` string values anywhere (every container list of every document of a
  manifest, Helm values, Compose services).
- Helm image blocks: a mapping with a string ``repository`` under a key ending in ``image``
  (``image``, ``thanosImage``) or one level below one (``image.busybox``). With ``registry`` the
  registry becomes the cache host and ``repository`` ``<prefix>/<path>``; without it the whole
  name goes into ``repository``. Tags, digests and ``global.imageRegistry`` are left alone.
- Compose: only ``services.<name>.image``, and not when it names the result of a local ``build``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import yaml

from ecrcache.rewrite.edits import Edit, line_of, make_edit
from ecrcache.rewrite.mapping import Mapping
from ecrcache.rewrite.text import Rewrite, rewrite_in_file

_STR = "tag:yaml.org,2002:str"


@dataclass
class Found:
    """Edits and warnings (line, message) found in one file."""

    kind: str = "yaml"
    edits: list[Edit] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)


def _pairs(node: yaml.MappingNode) -> Iterator[tuple[str, yaml.Node]]:
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and isinstance(key.value, str):
            yield key.value, value


def _get(node: yaml.MappingNode, name: str) -> yaml.Node | None:
    return next((v for k, v in _pairs(node) if k == name), None)


def _span(text: str, node: yaml.Node) -> tuple[int, int] | None:
    """The offsets of a string scalar's characters, if they are exactly its value (plain or
    quoted without escapes or folding); None for anything an edit could not keep intact."""
    if not isinstance(node, yaml.ScalarNode) or node.tag != _STR:
        return None
    start, end = node.start_mark.index, node.end_mark.index
    if node.style in ("'", '"'):
        start, end = start + 1, end - 1
    elif node.style is not None:
        return None
    return (start, end) if text[start:end] == node.value else None


def classify(docs: list[yaml.Node], filename: str) -> str:
    top = docs[0] if len(docs) == 1 else None
    if "compose" in filename.lower() or (
        isinstance(top, yaml.MappingNode)
        and isinstance(_get(top, "services"), yaml.MappingNode)
        and _get(top, "apiVersion") is None
    ):
        return "compose"
    if any(
        isinstance(d, yaml.MappingNode) and _get(d, "apiVersion") and _get(d, "kind") for d in docs
    ):
        return "manifest"
    return "helm-values"


def rewrite_yaml(
    text: str, mapping: Mapping, *, filename: str = "", reverse: bool = False
) -> Found:
    """Find and rewrite the image references of one YAML file (all its documents)."""
    try:
        docs = [d for d in yaml.compose_all(text, Loader=yaml.SafeLoader) if d is not None]
    except RecursionError:  # hostile-input: nesting past the stack (the parser rework owns this)
        found = Found()
        found.warnings.append((1, "nested too deeply to read; left unchanged"))
        return found
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        found = Found()
        found.warnings.append(
            (
                (mark.line + 1) if mark else 1,
                f"not valid YAML ({getattr(exc, 'problem', exc)}); left unchanged",
            )
        )
        return found
    found = Found(kind=classify(docs, filename) if docs else "yaml")
    scan = _Scan(text, mapping, reverse, found)
    for doc in docs:
        if found.kind == "compose":
            scan.compose(doc)
        else:
            scan.walk(doc, (), set())
    return found


@dataclass
class _Scan:
    text: str
    mapping: Mapping
    reverse: bool
    found: Found

    def walk(self, node: yaml.Node, keys: tuple[str, ...], seen: set[int]) -> None:
        if id(node) in seen:  # an alias: its anchor was (or will be) visited
            return
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            for item in node.value:
                self.walk(item, keys, seen)
        elif isinstance(node, yaml.MappingNode):
            if keys and _is_image_block(node, keys):
                self.helm_block(node)
                return
            for key, value in _pairs(node):
                if key == "image" and isinstance(value, yaml.ScalarNode):
                    self.string(value)
                else:
                    self.walk(value, (*keys, key), seen)

    def compose(self, doc: yaml.Node) -> None:
        services = _get(doc, "services") if isinstance(doc, yaml.MappingNode) else None
        if not isinstance(services, yaml.MappingNode):
            return
        for _, service in _pairs(services):
            if not isinstance(service, yaml.MappingNode):
                continue
            image = _get(service, "image")
            if image is not None and _get(service, "build") is None:
                self.string(image)

    def string(self, node: yaml.Node) -> None:
        span = _span(self.text, node)
        if span is None:
            self._cannot_edit(node)
            return
        start, end = span
        if start == end:
            return
        self._apply(
            rewrite_in_file(self.text[start:end], self.mapping, reverse=self.reverse),
            start,
            [(start, end, None)],
        )

    def helm_block(self, node: yaml.MappingNode) -> None:
        repo_node = _get(node, "repository")
        reg_node = _get(node, "registry")
        repo_span = _span(self.text, repo_node) if repo_node is not None else None
        if repo_span is None:
            if repo_node is not None:
                self._cannot_edit(repo_node)
            return
        repository = self.text[slice(*repo_span)]
        reg_span = _span(self.text, reg_node) if reg_node is not None else None
        registry = self.text[slice(*reg_span)] if reg_span else ""
        if not repository or (reg_node is not None and reg_span is None and reg_node.tag == _STR):
            return
        name = f"{registry}/{repository}" if registry else repository
        result = rewrite_in_file(name, self.mapping, reverse=self.reverse)
        if registry and reg_span:
            # Split the new name back: the host into registry, the path into repository.
            self._apply(
                result, repo_span[0], [(reg_span[0], reg_span[1], "host"), (*repo_span, "path")]
            )
        else:
            self._apply(result, repo_span[0], [(*repo_span, None)])

    def _apply(self, result: Rewrite, at: int, spans: list[tuple[int, int, str | None]]) -> None:
        if result.warning:
            self.found.warnings.append((line_of(self.text, at), result.warning))
        if not result.changed:
            return
        host, _, path = result.after.partition("/")
        for start, end, part in spans:
            after = {"host": host, "path": path}.get(part or "", result.after)
            if self.text[start:end] != after:
                self.found.edits.append(make_edit(self.text, start, end, after))

    def _cannot_edit(self, node: yaml.Node) -> None:
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR and node.value:
            self.found.warnings.append(
                (
                    node.start_mark.line + 1,
                    f"{node.value!r}: escaped, folded or multi-line value; left unchanged",
                )
            )


def _is_image_block(node: yaml.MappingNode, keys: tuple[str, ...]) -> bool:
    if _get(node, "repository") is None:
        return False
    return keys[-1].lower().endswith("image") or (
        len(keys) > 1 and keys[-2].lower().endswith("image")
    )
