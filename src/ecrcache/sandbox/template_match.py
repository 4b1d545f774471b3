"""Which creation template ECR applies to a repository it creates: the repository's name decides.

CreateRepositoryCreationTemplate, ``prefix``: "All repositories created using this namespace
prefix will have the settings defined in this template applied. For example, a prefix of prod
would apply to all repositories beginning with prod/. Similarly, a prefix of prod/team would
apply to all repositories beginning with prod/team/. To apply a template to all repositories in
your registry that don't have an associated creation template, you can use ROOT"
(https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepositoryCreationTemplate.html).

So it is the name, not the rule that pulled it: through a ROOT rule, ``bitnami/redis`` gets the
``bitnami`` template; ``prod/team/x`` gets ``prod/team`` rather than ``prod`` (the more specific
prefix); and only templates applied for the scenario (``appliedFor``) count.
"""

from __future__ import annotations

from collections.abc import Mapping

from ecrcache.sandbox import constraints as c
from ecrcache.sandbox.templates import RepositoryCreationTemplate


def template_for_repository(
    templates: Mapping[str, RepositoryCreationTemplate],
    repository: str,
    scenario: str = "PULL_THROUGH_CACHE",
) -> RepositoryCreationTemplate | None:
    """The template for a repository ECR creates in ``scenario``: the longest template prefix
    leading its name, else ROOT, else None. ``templates`` is keyed without a trailing '/'."""
    usable = {k: t for k, t in templates.items() if scenario in t.applied_for}
    named = [k for k in usable if k != c.ROOT and repository.startswith(k + "/")]
    if named:
        return usable[max(named, key=len)]
    return usable.get(c.ROOT)
