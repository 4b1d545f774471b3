"""Reading the config file: TOML in, a ``Config`` or one ``ConfigError`` out.

Every problem becomes a ``ConfigProblem`` naming the key path, what is wrong and how to fix it
(pydantic's errors translated one line per key, with "did you mean" for unknown keys);
``load_config`` raises one ``ConfigError`` carrying all of them. No message ever repeats a value
given for a credential field.
"""

from __future__ import annotations

import tomllib
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ecrcache.config.base import ConfigProblem, Problem
from ecrcache.config.keypath import key_path
from ecrcache.config.rules import did_you_mean
from ecrcache.config.schema import Config
from ecrcache.errors import ConfigError
from ecrcache.inputfile import TooDeep, loads_toml, read_text_capped

# --- loading and error translation -------------------------------------------------------------


def load_config(path: Path) -> Config:
    """Read and validate ``path``. Raises ConfigError naming the file, the key and the fix."""
    return parse_config(load_document(path), filename=str(path))


def load_document(path: Path) -> dict[str, Any]:
    """Read ``path`` as TOML, unvalidated. Raises ConfigError for a missing or malformed file."""
    name = str(path)
    try:
        text = read_text_capped(path, what="config file", error=ConfigError)
    except FileNotFoundError:
        raise ConfigError(
            f"{name}: no such file",
            hint="run `ecrcache init` to write one, or pass --config PATH (or set ECRCACHE_CONFIG)",
        ) from None
    try:
        doc = loads_toml(text)
    except TooDeep as exc:
        raise ConfigError(f"{name}: not a config: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{name}: not valid TOML: {exc}",
            hint="check quoting and brackets on that line",
        ) from None
    return doc


def parse_config(doc: Mapping[str, Any], *, filename: str = "config") -> Config:
    """Validate an already-parsed TOML document."""
    try:
        return Config.model_validate(doc)
    except ValidationError as exc:
        problems = tuple(_problems(exc, doc))
    raise config_error(problems, filename)


def config_error(problems: Iterable[ConfigProblem], filename: str) -> ConfigError:
    probs = tuple(problems)
    first = probs[0]
    return ConfigError(
        first.line(filename),
        hint=first.hint,
        details=tuple(p.line(filename) for p in probs[1:]),
    )


def _fields_at(loc: tuple[str | int, ...]) -> tuple[str, ...]:
    """The keys allowed at ``loc`` (for 'did you mean')."""
    model: type[BaseModel] = Config
    skip_key = False
    for part in loc:
        if skip_key:  # the user's own key in a keyed table ([rules.<prefix>])
            skip_key = False
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            continue
        found = _model_in(field.annotation)
        if found is not None:
            model, skip_key = found
    return tuple(k for k in model.model_fields if k not in ("prefix", "name"))


def _model_in(ann: Any) -> tuple[type[BaseModel], bool] | None:
    """The model an annotation holds, and whether it sits under a keyed table (dict)."""
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann, False
    args = typing.get_args(ann)
    keyed = typing.get_origin(ann) is dict
    for arg in args[1:] if keyed else args:
        inner = _model_in(arg)
        if inner is not None:
            return inner[0], keyed or inner[1]
    return None


_UNION_TAGS = {"str", "ValueSource", "function-after[_exactly_one(), ValueSource]"}


def _problems(exc: ValidationError, doc: Mapping[str, Any]) -> Iterable[ConfigProblem]:
    seen: set[str] = set()
    for err in exc.errors(include_input=False, include_url=False):
        loc = tuple(p for p in err["loc"] if str(p) not in _UNION_TAGS)
        path = key_path(loc)
        ctx_err = err.get("ctx", {}).get("error")
        if isinstance(ctx_err, Problem):
            full = ".".join(p for p in (path, ctx_err.subpath) if p)
            if full.endswith(".prefix") and full.startswith("rules."):
                full = full.removesuffix(".prefix")
            prob = ConfigProblem(full, ctx_err.message, ctx_err.hint)
        elif err["type"] == "extra_forbidden":
            key = str(loc[-1])
            allowed = _fields_at(loc[:-1])
            prob = ConfigProblem(
                path,
                f"unknown key {key!r}{did_you_mean(key, allowed)}",
                "allowed here: " + ", ".join(allowed) if allowed else None,
            )
        elif err["type"] == "missing":
            prob = ConfigProblem(path, "is required", None)
        else:
            # pydantic's own wording names the expected type; never echo the input.
            prob = ConfigProblem(path, err["msg"].lower(), None)
        if prob.path in seen:
            continue  # a union reports once per branch; one line per key is enough
        seen.add(prob.path)
        yield prob
