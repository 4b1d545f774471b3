"""Reading PyYAML node trees: keys through merge keys (``<<: *anchor``), and exact spans.

Pure. Merge keys stay in the node tree (only PyYAML's constructor flattens them), so lookups
here apply YAML's merge rule: a mapping's own keys win, then each merged mapping in order.
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

STR = "tag:yaml.org,2002:str"
MERGE = "tag:yaml.org,2002:merge"
NULL = "tag:yaml.org,2002:null"


def _merged(value: yaml.Node) -> list[yaml.MappingNode]:
    if isinstance(value, yaml.MappingNode):
        return [value]
    if isinstance(value, yaml.SequenceNode):
        return [v for v in value.value if isinstance(v, yaml.MappingNode)]
    return []


def pairs(node: yaml.MappingNode, _depth: int = 0) -> Iterator[tuple[str, yaml.Node]]:
    """Each string key and its value, merged keys included (own keys first, each key once)."""
    seen: set[str] = set()
    merges: list[yaml.MappingNode] = []
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        if key.tag == MERGE:
            merges += _merged(value)
        elif isinstance(key.value, str) and key.value not in seen:
            seen.add(key.value)
            yield key.value, value
    if _depth > 20:  # a merge chain this long is a loop or an attack; stop
        return
    for merged in merges:
        for key, value in pairs(merged, _depth + 1):
            if key not in seen:
                seen.add(key)
                yield key, value


def own_pairs(node: yaml.MappingNode) -> Iterator[tuple[str, yaml.Node]]:
    """The mapping's own string keys, without merged ones."""
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.tag != MERGE and isinstance(key.value, str):
            yield key.value, value


def get(node: yaml.Node | None, name: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((v for k, v in pairs(node) if k == name), None)


def get_path(node: yaml.Node | None, *names: str) -> yaml.Node | None:
    for name in names:
        node = get(node, name)
    return node


def string_value(node: yaml.Node | None) -> str | None:
    """The value of a string scalar (None for anything else: null, numbers, collections)."""
    if isinstance(node, yaml.ScalarNode) and node.tag == STR:
        return str(node.value)
    return None


def span(text: str, node: yaml.Node | None) -> tuple[int, int] | None:
    """The offsets of a string scalar's characters, if they are exactly its value (plain or
    quoted without escapes or folding); None for anything an edit could not keep intact.

    The node's start mark sits before any anchor or tag (``&img nginx``), so the span is found
    from the end mark, which always ends the scalar itself."""
    if not isinstance(node, yaml.ScalarNode) or node.tag != STR:
        return None
    end = node.end_mark.index
    value = node.value
    style = node.style or None  # libyaml's binding says "" for plain, PyYAML None
    if style in ("'", '"'):
        end -= 1
        if text[end : end + 1] != style:
            return None
    elif style is not None:
        return None
    start = end - len(value)
    if start < node.start_mark.index or text[start:end] != value:
        return None
    if style and text[start - 1 : start] != style:
        return None
    return start, end
