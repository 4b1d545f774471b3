"""Image references in YAML: Kubernetes manifests, Helm values, Kustomize and Compose files.

Pure. As Renovate does, the YAML is parsed only to find where references are (PyYAML's node
marks give their exact character offsets); the edits then go to the original text, so comments,
quoting, key order, indentation, other documents and the final newline all survive. Documents
are parsed one at a time (``yamlparse``).

- ``image: <reference>`` string values anywhere (every container list of every document of a
  manifest, Argo and Tekton steps, Helm values).
- Helm image blocks (``helm``): ``registry``/``repository``, ``repository`` alone, ``image``
  with a sibling or global registry; tags are left alone, digests noted.
- Kustomize ``images:`` entries (and ``imageTag:``): ``newName`` is a reference and is
  rewritten; ``name`` is a selector and stays.
- Compose: only ``services.<name>.image``, through ``<<: *anchor`` merge keys (an ``x-`` block's
  image is rewritten once, at its anchor), and not when it names the result of a local build.
- A value behind an anchor is rewritten at the anchor, once, whichever aliases use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import chain

import yaml

from ecrcache.rewrite import helm
from ecrcache.rewrite import yamlnodes as yn
from ecrcache.rewrite.edits import Edit, LineIndex
from ecrcache.rewrite.mapping import Mapping
from ecrcache.rewrite.text import DIGEST_NOTE, Rewrite, rewrite_in_file
from ecrcache.rewrite.yamlparse import documents, gc_paused, too_deep

_KUSTOMIZE_KEYS = ("newName", "newTag", "digest")


@dataclass
class Found:
    """Edits, warnings (line, message) on what was left unchanged, and notes (line, message):
    caveats on what was rewritten, found in one file."""

    kind: str = "yaml"
    edits: list[Edit] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)
    notes: list[tuple[int, str]] = field(default_factory=list)
    images: list[helm.Image] = field(default_factory=list)  # Helm blocks rewritten


# The names Compose reads without -f: "compose.yaml (preferred) or compose.yml ... Compose also
# supports docker-compose.yaml and docker-compose.yml", and the override file it merges by default
# (docs.docker.com/compose/intro/compose-application-model/, .../how-tos/multiple-compose-files/
# merge/). Exact names: decompose.yaml or composer.yml are not Compose files.
COMPOSE_NAMES = frozenset(
    f"{base}{override}.{ext}"
    for base in ("compose", "docker-compose")
    for override in ("", ".override")
    for ext in ("yaml", "yml")
)


def _is_compose(doc: yaml.Node, only: bool, filename: str) -> bool:
    return filename.rsplit("/", 1)[-1] in COMPOSE_NAMES or (
        only
        and isinstance(yn.get(doc, "services"), yaml.MappingNode)
        and yn.get(doc, "apiVersion") is None
    )


def _is_manifest(doc: yaml.Node) -> bool:
    return bool(yn.get(doc, "apiVersion") and yn.get(doc, "kind"))


def rewrite_yaml(
    text: str,
    mapping: Mapping,
    *,
    filename: str = "",
    reverse: bool = False,
    interpolation_defaults: bool = False,
) -> Found:
    """Find and rewrite the image references of one YAML file (all its documents)."""
    if text.startswith("\ufeff"):
        # libyaml leaves a leading byte order mark out of its offsets (PyYAML counts it):
        # read without it, then put the edits back in place.
        found = rewrite_yaml(
            text[1:],
            mapping,
            filename=filename,
            reverse=reverse,
            interpolation_defaults=interpolation_defaults,
        )
        found.edits = [replace(e, start=e.start + 1, end=e.end + 1) for e in found.edits]
        return found
    found = Found()
    scan = _Scan(text, LineIndex(text), mapping, reverse, interpolation_defaults, found)
    try:
        with gc_paused():
            docs = documents(text, filename)
            first = next(docs, None)
            if first is None:
                return found
            second = next(docs, None)
            if _is_compose(first, second is None, filename):
                found.kind = "compose"
                scan.compose(first)
                return found
            found.kind = "helm-values"
            for doc in chain((first, second), docs) if second is not None else (first,):
                if _is_manifest(doc):
                    found.kind = "manifest"
                scan.document(doc)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return Found(
            warnings=[
                (
                    (mark.line + 1) if mark else 1,
                    f"not valid YAML ({getattr(exc, 'problem', exc)}); left unchanged",
                )
            ]
        )
    except RecursionError:
        raise too_deep(filename) from None
    return found


@dataclass
class _Scan:
    text: str
    lines: LineIndex
    mapping: Mapping
    reverse: bool
    interpolation_defaults: bool
    found: Found
    done: set[int] = field(default_factory=set)  # ids of this document's handled scalars

    def rewrite(self, name: str) -> Rewrite:
        return rewrite_in_file(
            name,
            self.mapping,
            reverse=self.reverse,
            interpolation_defaults=self.interpolation_defaults,
        )

    # -- walking ---------------------------------------------------------------------------

    def document(self, doc: yaml.Node) -> None:
        # Aliases never cross documents, and a finished document's nodes are freed, so their
        # ids are reused: what was handled is remembered per document only.
        self.done.clear()
        glob = helm.global_registry(doc)
        blocks = self.walk(doc, glob is not None)
        self.helm_blocks(blocks, glob)

    def walk(self, root: yaml.Node, has_global: bool) -> list[helm.Block]:
        """Find image values, Kustomize entries and Helm blocks under ``root``, with a stack
        rather than recursion (no depth limit but the parser's) and each collection once (an
        alias is the node of its anchor). A merge key's mapping is walked like a child under
        the same keys. ``keys`` holds the last two keys only: all a block test looks at."""
        blocks: list[helm.Block] = []
        seen: set[int] = set()
        stack: list[tuple[yaml.Node, tuple[str, ...]]] = [(root, ())]
        mapping, sequence, scalar = yaml.MappingNode, yaml.SequenceNode, yaml.ScalarNode
        while stack:
            node, keys = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, sequence):
                stack += [(item, keys) for item in node.value if not isinstance(item, scalar)]
                continue
            if not isinstance(node, mapping):
                continue
            if (
                keys
                and helm.is_image_key(keys)
                and (block := helm.block_of(node, keys, has_global))
            ):
                blocks.append(block)
                continue
            for key_node, value in node.value:
                if not isinstance(key_node, scalar):
                    continue
                key = key_node.value
                if isinstance(value, scalar):
                    if key == "image":
                        self.string(value)
                elif key_node.tag == yn.MERGE:
                    stack.append((value, keys))
                elif not (key in ("images", "imageTag") and self.kustomize(value)):
                    stack.append((value, (keys[-1], key) if keys else (key,)))
        return blocks

    def compose(self, doc: yaml.Node) -> None:
        services = yn.get(doc, "services")
        if not isinstance(services, yaml.MappingNode):
            return
        for _, service in yn.own_pairs(services):
            if not isinstance(service, yaml.MappingNode):
                continue
            image = yn.get(service, "image")
            if image is not None and yn.get(service, "build") is None:
                self.string(image)

    def kustomize(self, node: yaml.Node) -> bool:
        """Kustomize image entries (``images:`` list, ``imageTag:``); False if not that."""
        entries = node.value if isinstance(node, yaml.SequenceNode) else [node]
        if not entries or not all(
            isinstance(e, yaml.MappingNode)
            and yn.get(e, "name") is not None
            and any(yn.get(e, k) is not None for k in _KUSTOMIZE_KEYS)
            for e in entries
        ):
            return False
        for entry in entries:
            new_name = yn.get(entry, "newName")
            if new_name is not None:
                self.string(new_name, pinned=bool(yn.string_value(yn.get(entry, "digest"))))
        return True

    # -- one reference ---------------------------------------------------------------------

    def string(self, node: yaml.Node, *, pinned: bool = False) -> None:
        if id(node) in self.done:
            return
        self.done.add(id(node))
        span = yn.span(self.text, node)
        if span is None:
            self._cannot_edit(node)
            return
        start, end = span
        if start == end:
            return
        result = self.rewrite(self.text[start:end])
        if pinned and result.changed and not self.reverse:
            result = Rewrite(result.before, result.after, note=f"{result.before}: {DIGEST_NOTE}")
        self._record(result, start)
        if result.changed:
            self.found.edits.append(self.lines.edit(start, end, result.after))

    # -- Helm blocks -----------------------------------------------------------------------

    def helm_blocks(self, blocks: list[helm.Block], glob: helm.GlobalRegistry | None) -> None:
        group: list[helm.Block] = []
        blocked: str | None = None
        if glob and len(glob.values) > 1:
            blocked = f"{glob.names} differ"
        for b in blocks:
            own = b.own_registry
            if glob is None:
                self.helm_block(b, own)
                continue
            path = yn.string_value(b.path)
            if own is None and b.path_key == "repository":
                if path:  # the chart may or may not put the global registry before it
                    self._warn(
                        b.path,
                        f"{path}: {glob.names} is {glob.value!r} and this block has no "
                        "registry of its own: whether the chart puts the global one before "
                        "its repository is chart-specific; left unchanged",
                    )
                    blocked = blocked or f"the block at line {self._line(b.path)} has none"
                continue
            if own is not None and own not in glob.values:
                self._warn(
                    b.path,
                    f"{path}: its registry {own!r} differs from {glob.names} ({glob.value!r}), "
                    "and charts differ on which one wins; left unchanged",
                )
                blocked = blocked or f"the block at line {self._line(b.path)} has its own"
                continue
            group.append(b)
        if group and glob:
            self.global_group(group, glob, blocked)

    def helm_block(self, b: helm.Block, registry: str | None) -> None:
        """A block that does not depend on a global registry."""
        path_span = yn.span(self.text, b.path)
        if path_span is None:
            self._cannot_edit(b.path)
            return
        path = self.text[slice(*path_span)]
        reg_span = yn.span(self.text, b.registry) if b.registry is not None else None
        if not path or (b.registry is not None and reg_span is None and b.registry.tag == yn.STR):
            return
        result = self._pinned(self.rewrite(f"{registry}/{path}" if registry else path), b)
        self._record(result, path_span[0])
        if not result.changed:
            return
        self._image(b, result, path_span[0])
        if registry and reg_span:
            # Split the new name back: the host into registry, the path into repository.
            host, _, rest = result.after.partition("/")
            self._edit(reg_span, host)
            self._edit(path_span, rest)
        else:
            self._edit(path_span, result.after)

    def global_group(
        self, group: list[helm.Block], glob: helm.GlobalRegistry, blocked: str | None
    ) -> None:
        """Blocks whose registry is the global one: all rewritten to one host, or none."""
        spans = [yn.span(self.text, b.path) for b in group]
        globals_ = [yn.span(self.text, n) for n in glob.nodes]
        results: list[Rewrite] = []
        for b, s in zip(group, spans, strict=True):
            path = self.text[slice(*s)] if s else str(yn.string_value(b.path))
            results.append(self._pinned(self.rewrite(f"{glob.value}/{path}"), b))
        hosts = {r.after.partition("/")[0] for r in results if r.changed}
        if not hosts and not any(r.warning for r in results):
            return  # all already in the cache (a second run): nothing to say
        failed = next((r for r in results if not r.changed), None)
        reason = blocked
        if reason is None and (None in spans or None in globals_):
            reason = "a value is escaped or folded"
        if reason is None and failed is not None:
            reason = (failed.warning or f"{failed.before}: unchanged").removesuffix(
                "; left unchanged"
            )
        if reason is None and len(hosts) > 1:
            reason = f"its images would need different registries ({', '.join(sorted(hosts))})"
        if reason is not None:
            for b, r in zip(group, results, strict=True):
                if r is failed and r.warning and not blocked:
                    self._warn(b.path, r.warning)
                    continue
                self._warn(
                    b.path,
                    f"{yn.string_value(b.path)}: its registry comes from {glob.names} "
                    f"({glob.value!r}), shared by {len(group)} images, and it cannot be "
                    f"rewritten for all of them ({reason}); left unchanged",
                )
            return
        (host,) = hosts
        for s in globals_:
            assert s is not None
            self._edit(s, host)
        for b, s, r in zip(group, spans, results, strict=True):
            assert s is not None
            self._record(r, s[0])
            self._image(b, r, s[0])
            self._edit(s, r.after.partition("/")[2])
            own = yn.span(self.text, b.registry) if b.own_registry else None
            if own is not None:
                self._edit(own, host)

    # -- recording -------------------------------------------------------------------------

    def _pinned(self, result: Rewrite, b: helm.Block) -> Rewrite:
        if b.pinned and result.changed and not self.reverse:
            return Rewrite(
                result.before, result.after, note=f"{result.before} (digest): {DIGEST_NOTE}"
            )
        return result

    def _image(self, b: helm.Block, result: Rewrite, at: int) -> None:
        line = self.lines.line(at)
        self.found.images.append(helm.Image(line, result.before, result.after, b.tag, b.digest))

    def _line(self, node: yaml.Node) -> int:
        s = yn.span(self.text, node)
        return self.lines.line(s[0]) if s else node.start_mark.line + 1

    def _edit(self, span: tuple[int, int], after: str) -> None:
        if self.text[span[0] : span[1]] != after:
            self.found.edits.append(self.lines.edit(span[0], span[1], after))

    def _record(self, result: Rewrite, at: int) -> None:
        line = self.lines.line(at)
        if result.warning and (line, result.warning) not in self.found.warnings:
            self.found.warnings.append((line, result.warning))
        if result.note and (line, result.note) not in self.found.notes:
            self.found.notes.append((line, result.note))

    def _warn(self, node: yaml.Node, message: str) -> None:
        entry = (self._line(node), message)
        if entry not in self.found.warnings:
            self.found.warnings.append(entry)

    def _cannot_edit(self, node: yaml.Node) -> None:
        if isinstance(node, yaml.ScalarNode) and node.tag == yn.STR and node.value:
            self._warn(node, f"{node.value!r}: escaped, folded or multi-line value; left unchanged")
