"""Which live repositories backfill may touch. Pure.

ECR applies a creation template only when it creates a repository, so ``backfill = true`` sets a
template's lifecycle policy and tag mutability on cache repositories created before it. It must
never reach a repository a person pushed to. A repository is a cache repository only if a
pull-through cache rule in this config could have created it:

- a name under a declared rule's prefix (``docker-hub/...``): reached by ``backfill = true``;
- a name only a ROOT rule could have created (any name outside every rule prefix): people push
  to such names too, so it is reached only when the user names it in ``backfill_repositories``
  on the template that applies to it; the rest are counted and reported as left alone.

Never reached, whatever the patterns say: an application repository the config declares, and
one carrying ecrcache's managed-by tag (an application repository since removed from the
config, which the plan lists as left alone). The template whose settings apply is the one ECR
would have used: the longest pull-through-cache template prefix that leads the name, else ROOT.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ecrcache.config.registry import pattern_regex
from ecrcache.config.schema import Config

ROOT = "ROOT"


def under(name: str, prefix: str) -> bool:
    """``name`` lies under ``prefix`` as ECR reads a prefix (an implied trailing ``/``)."""
    return name.startswith(prefix + "/")


@dataclass(frozen=True)
class BackfillScope:
    """What of the registry backfill reaches, from the config alone."""

    rule_prefixes: frozenset[str] = frozenset()  # declared rules other than ROOT
    root_rule: bool = False
    templates: frozenset[str] = frozenset()  # templates ECR applies to pull-through cache
    backfill: frozenset[str] = frozenset()  # ... of those, with backfill = true
    named: tuple[tuple[str, tuple[str, ...]], ...] = ()  # template -> backfill_repositories
    app_repositories: frozenset[str] = frozenset()

    @classmethod
    def of(cls, config: Config) -> BackfillScope:
        ptc = {p: t for p, t in config.templates.items() if "PULL_THROUGH_CACHE" in t.applied_for}
        return cls(
            rule_prefixes=frozenset(p for p in config.rules if p != ROOT),
            root_rule=ROOT in config.rules,
            templates=frozenset(ptc),
            backfill=frozenset(p for p, t in ptc.items() if t.backfill),
            named=tuple(sorted((p, t.backfill_repositories) for p, t in ptc.items() if t.backfill)),
            app_repositories=frozenset(config.repositories),
        )

    @property
    def active(self) -> bool:
        return bool(self.backfill)

    def template_of(self, name: str) -> str | None:
        """The template ECR applies to a cache repository called ``name`` (None: no template)."""
        best = max(
            (p for p in self.templates if p != ROOT and under(name, p)), key=len, default=None
        )
        if best is None and ROOT in self.templates:
            return ROOT
        return best

    def _named(self, template: str, name: str) -> bool:
        patterns = dict(self.named).get(template, ())
        return any(pattern_regex(p).fullmatch(name) for p in patterns)

    def _cache_name(self, name: str) -> bool:
        return any(under(name, p) for p in self.rule_prefixes)

    def reach(self, name: str, *, managed: bool = False) -> str | None:
        """The template whose settings backfill sets on ``name``, or None: not to be touched.
        ``managed``: the repository carries ecrcache's managed-by tag."""
        if managed or name in self.app_repositories:
            return None
        template = self.template_of(name)
        if template is None or template not in self.backfill:
            return None
        if self._cache_name(name):
            return template
        if self.root_rule and self._named(template, name):
            return template
        return None

    def reached(self, names: Iterable[str], *, managed: Iterable[str] = ()) -> dict[str, str]:
        """Name -> template, for every name backfill reaches."""
        mine = frozenset(managed)
        out = {}
        for name in names:
            template = self.reach(name, managed=name in mine)
            if template is not None:
                out[name] = template
        return out

    def left_alone(
        self, names: Iterable[str], *, managed: Iterable[str] = ()
    ) -> dict[str, tuple[str, ...]]:
        """Template -> the names that only the ROOT rule could have created, under a backfill
        template, that backfill leaves alone because no ``backfill_repositories`` pattern
        names them. Empty without a ROOT rule (then every cache name is under a rule prefix)."""
        if not self.root_rule:
            return {}
        mine = frozenset(managed)
        out: dict[str, list[str]] = {}
        for name in sorted(names):
            if name in mine or name in self.app_repositories or self._cache_name(name):
                continue
            template = self.template_of(name)
            if template is None or template not in self.backfill or self._named(template, name):
                continue
            out.setdefault(template, []).append(name)
        return {t: tuple(v) for t, v in out.items()}


def left_alone_notes(left: Mapping[str, tuple[str, ...]], *, shown: int = 3) -> tuple[str, ...]:
    """One plan note per template: how many repositories backfill left alone, and how to name
    them."""
    out = []
    for template, names in sorted(left.items()):
        examples = ", ".join(names[:shown]) + (", ..." if len(names) > shown else "")
        first = names[0].split("/", 1)[0]
        example = f"{first}/*" if "/" in names[0] else names[0]
        what = "1 repository" if len(names) == 1 else f"{len(names)} repositories"
        out.append(
            f"backfill left {what} alone that only the ROOT rule could have created, and "
            f"people may have pushed to ({examples}): to backfill them, name them in "
            f'templates.{template}.backfill_repositories, e.g. ["{example}"]'
        )
    return tuple(out)
