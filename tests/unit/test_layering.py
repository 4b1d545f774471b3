"""The architecture as a test: who may import whom, read from the source with ``ast``.

Layers, bottom first: a module may import its own layer and those below, never one above. The
pure parts (the config schema, policy documents, rewrite, the plan's diff and the cost
arithmetic) import neither boto3/botocore nor rich nor typer, so they stay fast to import and
testable without AWS or a terminal; only ``cli/`` speaks typer, only ``cli/`` and ``render/``
speak rich.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "ecrcache"

# Rank of each top-level part of ecrcache; a module may import parts of its rank or lower.
LAYERS: dict[str, int] = {
    "errors": 0,
    "result": 0,
    "atomicfile": 0,
    "inputfile": 0,
    "secrecy": 0,
    "endpointurl": 0,
    "interrupts": 0,
    "nextcommand": 0,
    "__init__": 0,
    "policy": 1,
    "config": 2,
    "aws": 2,
    "endpointwait": 2,
    "sandbox": 2,
    "rewrite": 3,
    "node": 3,
    "reconcile": 4,
    "registry": 4,
    "cost": 5,
    "export": 5,
    "doctor": 6,
    "render": 7,
    "cli": 8,
    "__main__": 9,
}

# Modules that must stay free of AWS SDK and terminal code (packages, or single modules).
PURE = (
    "config",
    "policy",
    "rewrite",
    "node",
    "reconcile.desired",
    "reconcile.import_toml",
    "reconcile.changes",
    "reconcile.plan",
    "reconcile.resources",
    "cost.report",
    "cost.pricing",
    "export",
)
NO_TERMINAL = (*PURE, "reconcile", "cost", "registry", "sandbox", "doctor", "aws", "endpointwait")


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).with_suffix("")
        yield ".".join(rel.parts), path


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    """Every module ``path`` imports (top level or inside a function), with its line."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno
            if node.module == "ecrcache":  # `from ecrcache import refs` names a module
                for alias in node.names:
                    if (SRC / f"{alias.name}.py").exists() or (SRC / alias.name).is_dir():
                        yield f"ecrcache.{alias.name}", node.lineno


def _part(module: str) -> str:
    return module.split(".")[0]


def _within(module: str, scopes: tuple[str, ...]) -> bool:
    return any(module == s or module.startswith(s + ".") for s in scopes)


MODULES = list(_modules())


def test_every_part_has_a_layer() -> None:
    assert {_part(m) for m, _ in MODULES} <= set(LAYERS), "add the new part to LAYERS"


@pytest.mark.parametrize(("module", "path"), MODULES, ids=[m for m, _ in MODULES])
def test_imports_run_down_the_layers(module: str, path: Path) -> None:
    rank = LAYERS[_part(module)]
    upward = [
        f"{path.name}:{line} imports {name}"
        for name, line in _imports(path)
        if name.startswith("ecrcache.") and LAYERS[_part(name[len("ecrcache.") :])] > rank
    ]
    assert upward == []


@pytest.mark.parametrize(("module", "path"), MODULES, ids=[m for m, _ in MODULES])
def test_sdk_and_terminal_stay_in_their_place(module: str, path: Path) -> None:
    bad = []
    for name, line in _imports(path):
        root = name.split(".")[0]
        if root == "typer" and _part(module) != "cli":
            bad.append(f"{path.name}:{line}: typer outside cli/")
        if root == "rich" and _part(module) not in ("cli", "render"):
            bad.append(f"{path.name}:{line}: rich outside cli/ and render/")
        if root in ("boto3", "botocore") and _within(module, PURE):
            bad.append(f"{path.name}:{line}: {root} in a pure module")
    assert bad == []


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    """The scanner itself: an ``import rich`` inside a function of a pure module is found."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    import rich\n    from ecrcache.cli import app\n")
    assert ("rich", 2) in list(_imports(probe))
    assert ("ecrcache.cli", 3) in list(_imports(probe))


def test_pure_modules_exist() -> None:
    """A renamed pure module would silently drop out of the checks above."""
    names = {m for m, _ in MODULES}
    for scope in PURE:
        assert any(m == scope or m.startswith(scope + ".") for m in names), scope
