"""Plain ``str`` and ``Path`` options without building a pydantic TypeAdapter at start-up.

typer 0.2x coerces every non-bool option value through a pydantic ``TypeAdapter`` built on first
use (``typer.core._TyperParameter.get_runtime_param`` -> ``_coercion.build_runtime_param``),
which imports pydantic: about 45% of ``ecrcache rewrite nginx:latest``'s CPU time
(benchmarks/bench_startup.py). For the options that are plainly a string, a path, a list of
strings or a flag, with no constraint typer would check, the adapter returns exactly what click
already parsed (``Path(value)`` for a path, a list for a list). Those get a coercer that does that;
every other option, and any value of an unexpected type, keeps typer's own coercion.

typer's parameter class is private: when it is not there (another typer), nothing is changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args, get_origin


def _plain_kind(descriptor: Any) -> str | None:
    info = descriptor.parameter_info
    if getattr(descriptor, "file_annotation", None) is not None:
        return None
    if getattr(info, "click_type", None) is not None or getattr(info, "parser", None) is not None:
        return None
    annotation = descriptor.annotation
    if annotation is str:
        return "str"
    if annotation is bool:
        return "bool"
    if annotation is Path:
        constrained = (
            getattr(info, "exists", False)
            or getattr(info, "writable", False)
            or getattr(info, "resolve_path", False)
            or not getattr(info, "file_okay", True)
            or not getattr(info, "dir_okay", True)
            or getattr(info, "path_type", None) is not None
        )
        return None if constrained else "path"
    if get_origin(annotation) is list and get_args(annotation) == (str,):
        return "list"
    return None


class _PlainParam:
    """The RuntimeParam contract (``coerce``) for a plain option."""

    def __init__(self, kind: str, fallback: Any) -> None:
        self.kind = kind
        self.fallback = fallback  # typer's own builder, for anything unexpected

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        multi = param.multiple or param.nargs == -1
        if value is None:
            return () if multi else None
        if self.kind == "str" and isinstance(value, str) and not multi:
            return value
        if self.kind == "bool" and isinstance(value, bool) and not multi:
            return value
        if self.kind == "path" and isinstance(value, str | Path) and not multi:
            return Path(value)
        if (
            self.kind == "list"
            and isinstance(value, list | tuple)
            and all(isinstance(v, str) for v in value)
        ):
            return list(value)
        return self.fallback().coerce(value, param=param, ctx=ctx)


def install() -> None:
    try:
        from typer import core
    except ImportError:  # pragma: no cover - typer is a dependency
        return
    cls = getattr(core, "_TyperParameter", None)
    original = getattr(cls, "get_runtime_param", None)
    build = getattr(core, "build_runtime_param", None)
    if cls is None or original is None or build is None or getattr(cls, "_ecrcache_plain", False):
        return

    def get_runtime_param(self: Any) -> Any:
        if getattr(self, "_runtime_param", None) is None:
            kind = _plain_kind(self.type_descriptor)
            if kind is not None:
                descriptor = self.type_descriptor
                self._runtime_param = _PlainParam(kind, lambda: build(descriptor))
        return original(self)

    cls.get_runtime_param = get_runtime_param
    cls._ecrcache_plain = True
    cls._ecrcache_original = original


def uninstall() -> None:
    """typer's own coercion again (tests compare the two)."""
    from typer import core

    cls = getattr(core, "_TyperParameter", None)
    if cls is not None and getattr(cls, "_ecrcache_plain", False):
        cls.get_runtime_param = cls._ecrcache_original
        cls._ecrcache_plain = False
