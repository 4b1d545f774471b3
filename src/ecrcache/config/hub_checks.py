"""What a hub or spoke config declares that is valid but will not work as meant. Pure."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ecrcache.config.schema import Config


def template_for(config: Config, prefix: str) -> str | None:
    """The prefix of the template ECR applies to repositories a rule with ``prefix`` creates:
    the one of the same prefix, else ROOT (PULL_THROUGH_CACHE templates only)."""
    ptc = {p for p, t in config.templates.items() if "PULL_THROUGH_CACHE" in t.applied_for}
    if prefix in ptc:
        return prefix
    return "ROOT" if "ROOT" in ptc else None


def hub_spoke_warnings(config: Config) -> list[str]:
    out: list[str] = []
    if config.hub is not None:
        bare = sorted(p for p in config.cache_prefixes if template_for(config, p) is None)
        if bare:
            out.append(
                "hub: no creation template applies to the repositories of "
                + ", ".join(f"rules.{p}" for p in bare)
                + ", so they get no repository policy and spokes cannot pull from them "
                "(add [templates.ROOT] or one per rule prefix)"
            )
    if config.spoke is not None and config.templates:
        out.append(
            "spoke: [templates] are ignored: the hub's templates make the cache repositories "
            "(declare them in the hub's config)"
        )
    return out
