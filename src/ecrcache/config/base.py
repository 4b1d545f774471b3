"""Shared pieces of the config models: the strict base model and the problem type. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with the config: where (dotted key path), what, and how to fix it."""

    path: str
    message: str
    hint: str | None = None

    def line(self, filename: str) -> str:
        where = f"{filename}: {self.path}: " if self.path else f"{filename}: "
        return where + self.message


class Problem(ValueError):
    """Raised inside validators: carries a hint and a path relative to the model being checked."""

    def __init__(self, message: str, hint: str | None = None, subpath: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.subpath = subpath


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)
