"""The regions the saved sandbox holds something in, so a command with no config (``import``)
works where the sandbox's cache is, not wherever AWS_DEFAULT_REGION happens to point."""

from __future__ import annotations

from pathlib import Path


def populated_regions(state_path: Path | None = None) -> tuple[str, ...]:
    """Regions (sorted) with a pull-through cache rule, creation template, repository or secret
    in the saved sandbox; () when there is no state. SandboxError if it is unreadable."""
    from ecrcache.sandbox import statefile
    from ecrcache.sandbox.runtime import _require_moto, default_state_path

    _require_moto()
    saved = statefile.read(state_path or default_state_path())
    if saved is None:
        return ()
    found: set[str] = set()
    for service, holds in (
        ("ecr", ("pull_through_cache_rules", "repository_creation_templates", "repositories")),
        ("secretsmanager", ("secrets",)),
    ):
        for regions in saved.get(service, {}).values():
            for region, backend in regions.items():
                if any(len(getattr(backend, name, None) or {}) for name in holds):
                    found.add(region)
    return tuple(sorted(found))
