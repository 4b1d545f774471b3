"""Hub and spoke: ``[hub]`` (who may pull through this account's cache) and ``[spoke]`` (this
account pulls through another account's cache). Pure.

A hub grants its spokes, in its registry policy, the two first-pull actions (a spoke cannot create
a cache repository otherwise: govuk-infrastructure pre-creates them for that reason), and gives
the repositories its templates create a repository policy that lets the spokes pull. A spoke's
``[rules]`` describe the hub's rules, for routing only: a spoke creates no rules, templates or
upstream secrets, and every command that names a registry names the hub's.

Identifier patterns are botocore's Organizations model (2016-11-28): ``OrganizationId``
``^o-[a-z0-9]{10,32}$``, ``RootId`` ``^r-[0-9a-z]{4,32}$``, ``OrganizationalUnitId``
``^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$``. ``aws:PrincipalOrgPaths`` values are
``o-id/r-id/ou-id/.../`` paths, matched with ``ForAnyValue:StringLike``
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgpaths).
"""

from __future__ import annotations

import re

from pydantic import field_validator, model_validator

from ecrcache.config.base import Problem, StrictModel
from ecrcache.config.registry import POLICY_NAME_RE, ROLE_ARN_RE

ACCOUNT_RE = re.compile(r"^[0-9]{12}$")
ORG_ID_RE = re.compile(r"^o-[a-z0-9]{10,32}$")
_ROOT = r"r-[0-9a-z]{4,32}"
_OU = r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}"
# o-id/r-id/ then any number of OU ids, each ending in "/", optionally closed by "*"
ORG_PATH_RE = re.compile(rf"^o-[a-z0-9]{{10,32}}/{_ROOT}/(?:{_OU}/)*\*?$")
DEFAULT_PULL_POLICY = "ecrcache-hub-pull"


class HubConfig(StrictModel):
    """Who may pull through this account's cache, besides its own principals."""

    spoke_accounts: tuple[str, ...] = ()
    spoke_principals: tuple[str, ...] = ()
    organization_id: str | None = None
    organizational_unit_paths: tuple[str, ...] = ()

    @field_validator("spoke_accounts")
    @classmethod
    def _accounts(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for a in v:
            if not ACCOUNT_RE.match(a):
                raise Problem(f"{a!r} is not a 12-digit AWS account ID", 'e.g. "333333333333"')
        return v

    @field_validator("spoke_principals")
    @classmethod
    def _principals(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for p in v:
            if not ROLE_ARN_RE.match(p):
                raise Problem(
                    f"{p!r} is not an IAM role ARN",
                    'e.g. "arn:aws:iam::333333333333:role/eks-node"',
                )
        return v

    @field_validator("organization_id")
    @classmethod
    def _org(cls, v: str | None) -> str | None:
        if v is not None and not ORG_ID_RE.match(v):
            raise Problem(
                f"{v!r} is not an AWS Organizations ID",
                'o- and 10 to 32 lowercase letters or digits, e.g. "o-a1b2c3d4e5"',
            )
        return v

    @field_validator("organizational_unit_paths")
    @classmethod
    def _paths(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for p in v:
            if not ORG_PATH_RE.match(p):
                raise Problem(
                    f"{p!r} is not an organization path",
                    'e.g. "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"',
                )
        return v

    @model_validator(mode="after")
    def _someone(self) -> HubConfig:
        if not (self.spoke_accounts or self.spoke_principals or self.organization_id):
            raise Problem(
                "a hub with no spokes",
                "set spoke_accounts, spoke_principals or organization_id",
            )
        if self.organizational_unit_paths:
            if self.organization_id is None:
                raise Problem(
                    "organizational_unit_paths needs organization_id",
                    subpath="organizational_unit_paths",
                )
            for p in self.organizational_unit_paths:
                if not p.startswith(self.organization_id + "/"):
                    raise Problem(
                        f"{p!r} is not in the organization {self.organization_id}",
                        subpath="organizational_unit_paths",
                    )
        return self

    @property
    def principals(self) -> tuple[str, ...]:
        """The named spokes: account IDs and role ARNs, sorted."""
        return tuple(sorted({*self.spoke_accounts, *self.spoke_principals}))


class SpokeConfig(StrictModel):
    """This account pulls through the cache of ``hub_account_id`` in ``hub_region``."""

    hub_account_id: str
    hub_region: str | None = None  # default: the config's region
    # the managed policy apply creates here for the pullers to attach: pull and first-pull on
    # the hub's cache repositories
    pull_policy: str = DEFAULT_PULL_POLICY

    @field_validator("hub_account_id", mode="before")
    @classmethod
    def _account(cls, v: object) -> object:
        if isinstance(v, int):
            raise Problem("hub_account_id must be a string", 'quote it: "111111111111"')
        if isinstance(v, str) and not ACCOUNT_RE.match(v):
            raise Problem(f"{v!r} is not a 12-digit AWS account ID")
        return v

    @field_validator("hub_region")
    @classmethod
    def _region(cls, v: str | None) -> str | None:
        from ecrcache.config.schema import REGION_RE

        if v is not None and not REGION_RE.match(v):
            raise Problem(f"{v!r} is not an AWS region name", 'e.g. hub_region = "eu-west-2"')
        return v

    @field_validator("pull_policy")
    @classmethod
    def _name(cls, v: str) -> str:
        if not POLICY_NAME_RE.match(v):
            raise Problem(f"{v!r} is not an IAM policy name")
        return v
