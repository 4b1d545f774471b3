"""Helm image blocks, and where the chart takes their registry from.

Pure. A block is a mapping under a key ending in ``image`` (``image``, ``thanosImage``) or one
level below one (``image.busybox``) that names its image by ``repository`` (the whole name, or
the path after a sibling ``registry``) or by ``image`` (ingress-nginx: the path after
``registry`` or, when the block has none, ``global.image.registry``).

Charts disagree on precedence: Bitnami's common chart (``common.images.image`` in
bitnami/charts ``bitnami/common/templates/_images.tpl``) lets ``global.imageRegistry`` override
a block's ``registry``; ingress-nginx and many others (``.image.registry | default
.Values.global.image.registry``) let the block's win; some put the global before a
``repository`` that has no registry of its own, others never do.
So a global registry is only rewritten when every block that would use it can be rewritten with
it, to the same cache host; a block whose rendering depends on the chart's precedence (its own
registry differs from the global, or it has only a ``repository`` the chart may prefix) is left
alone with a warning saying so, and the global then stays too.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from ecrcache.rewrite import yamlnodes as yn

GLOBAL_KEYS = (("global", "image", "registry"), ("global", "imageRegistry"))
DIGEST_KEYS = ("digest", "sha", "digestChroot")


@dataclass(frozen=True)
class Block:
    node: yaml.MappingNode
    path_key: str  # "repository" or "image"
    path: yaml.Node
    registry: yaml.Node | None

    @property
    def pinned(self) -> bool:
        return any(yn.string_value(yn.get(self.node, k)) for k in DIGEST_KEYS)

    @property
    def own_registry(self) -> str | None:
        return yn.string_value(self.registry) or None

    @property
    def tag(self) -> str | None:
        return _scalar_text(yn.get(self.node, "tag"))

    @property
    def digest(self) -> str | None:
        return next((d for k in DIGEST_KEYS if (d := yn.string_value(yn.get(self.node, k)))), None)


def _scalar_text(node: yaml.Node | None) -> str | None:
    """A scalar as written (``tag: 1.25`` is a float to YAML, and the text is the tag)."""
    if isinstance(node, yaml.ScalarNode) and node.tag != yn.NULL and str(node.value).strip():
        return str(node.value).strip()
    return None


@dataclass(frozen=True)
class Image:
    """A block rewrite rewrote, as whole names: ``before`` and ``after`` (the path with its
    registry, as rewrite mapped them), and the block's own tag and digest, for those (warm)
    that need the whole reference rewrite split over keys. ``line`` is the path's."""

    line: int
    before: str
    after: str
    tag: str | None
    digest: str | None

    def reference(self, name: str) -> str:
        return (
            name + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")
        )


@dataclass(frozen=True)
class GlobalRegistry:
    """The non-empty global registry keys of one document (``names`` for messages)."""

    nodes: tuple[yaml.Node, ...]
    names: str
    values: frozenset[str]

    @property
    def value(self) -> str:
        return min(self.values)


def global_registry(doc: yaml.Node) -> GlobalRegistry | None:
    found = [
        (".".join(keys), node)
        for keys in GLOBAL_KEYS
        if yn.string_value(node := yn.get_path(doc, *keys))
    ]
    if not found:
        return None
    return GlobalRegistry(
        tuple(n for _, n in found),
        " and ".join(name for name, _ in found),
        frozenset(str(yn.string_value(n)) for _, n in found),
    )


def is_image_key(keys: tuple[str, ...]) -> bool:
    """``keys`` (the last ones, outermost first) end in an image key or one level below one."""
    return keys[-1].lower().endswith("image") or (
        len(keys) > 1 and keys[-2].lower().endswith("image")
    )


def block_of(node: yaml.MappingNode, keys: tuple[str, ...], has_global: bool) -> Block | None:
    """The image block ``node`` is, if it is one."""
    if not keys or not is_image_key(keys):
        return None
    registry = yn.get(node, "registry")
    repository = yn.get(node, "repository")
    if repository is not None and not isinstance(repository, yaml.CollectionNode):
        return Block(node, "repository", repository, registry)
    image = yn.get(node, "image")
    if yn.string_value(image) and (registry is not None or has_global):
        assert image is not None
        return Block(node, "image", image, registry)
    return None
