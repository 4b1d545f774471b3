"""Hub and spoke: the generated policies let a spoke's role make a first pull through the hub,
evaluated with the project's IAM evaluator, and each of the three is needed (pure)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from ecrcache.config.loading import parse_config
from ecrcache.config.schema import Config
from ecrcache.errors import ConfigError
from ecrcache.policy.hub import FIRST_PULL_ACTIONS, PULL_ACTIONS, first_pull_steps
from ecrcache.policy.iam import evaluate
from ecrcache.reconcile.desired import desired_state
from ecrcache.reconcile.outputs import compute_outputs
from ecrcache.rewrite.config_routes import read_routes

HUB, SPOKE, OTHER = "111111111111", "333333333333", "444444444444"
REGION = "eu-west-2"
NODE = f"arn:aws:iam::{SPOKE}:role/eks-node"
SESSION = f"arn:aws:sts::{SPOKE}:assumed-role/eks-node/i-0abc"
ORG = "o-a1b2c3d4e5"
RULES = """
[rules.docker-hub]
upstream = "docker-hub"
credentials = { secret = "ecr-pullthroughcache/docker-hub", username = "u", token.env = "TOK" }
[rules.quay]
upstream = "quay"
"""


def load(text: str) -> Config:
    return parse_config(tomllib.loads(text))


def hub_config(hub: str = f'spoke_accounts = ["{SPOKE}"]', templates: str | None = None) -> Config:
    templates = templates if templates is not None else "[templates.ROOT]\n"
    return load(f'region = "{REGION}"\naccount_id = "{HUB}"\n{RULES}\n{templates}\n[hub]\n{hub}\n')


def spoke_config(extra: str = "") -> Config:
    return load(
        f'region = "{REGION}"\naccount_id = "{SPOKE}"\n{RULES}\n'
        f'[spoke]\nhub_account_id = "{HUB}"\n{extra}'
    )


def generated(hub: Config, spoke: Config) -> dict[str, Any]:
    """The three documents apply writes: the spoke's pull policy, the hub's registry policy and
    the repository policy the hub's ROOT template gives each cache repository."""
    h = desired_state(hub, {}, account_id=HUB, region=REGION)
    s = desired_state(spoke, {}, account_id=SPOKE, region=REGION)
    registry = h.registry_policy["registry"]
    repository = h.templates["ROOT"].repository_policy
    assert repository is not None
    return {
        "identity": json.loads(s.iam_policies["ecrcache-hub-pull"].document),
        "registry": {
            "Version": "2012-10-17",
            "Statement": [json.loads(t) for t in registry.statements],
        },
        "repository": json.loads(repository),
    }


def steps(docs: dict[str, Any], *, repository: str = "docker-hub/library/nginx", **ctx: Any):
    return first_pull_steps(
        principal_arn=SESSION,
        identity_policies=[docs["identity"]] if docs["identity"] is not None else [],
        registry_policy=docs["registry"],
        repository_policy=docs["repository"],
        partition="aws",
        hub_account_id=HUB,
        hub_region=REGION,
        repository=repository,
        context=ctx,
    )


def test_generated_policies_allow_a_first_pull_through_the_hub() -> None:
    docs = generated(hub_config(), spoke_config())
    result = steps(docs)
    assert [s.action for s in result] == [
        "ecr:GetAuthorizationToken",
        "ecr:CreateRepository",
        "ecr:BatchImportUpstreamImage",
        *PULL_ACTIONS,
    ]
    assert all(s.decision.allowed and s.decision.certain for s in result), result


def test_the_evaluator_itself_allows_each_call_with_both_sides() -> None:
    docs = generated(hub_config(), spoke_config())
    arn = f"arn:aws:ecr:{REGION}:{HUB}:repository/quay/prometheus/node-exporter"
    # a repository policy's resource is its repository (its statements name none)
    on_repo = {"Statement": [{**st, "Resource": arn} for st in docs["repository"]["Statement"]]}
    for action, resource_policy in (
        *((a, docs["registry"]) for a in FIRST_PULL_ACTIONS),
        *((a, on_repo) for a in PULL_ACTIONS),
    ):
        decision = evaluate(
            action,
            arn,
            identity_policies=[docs["identity"]],
            resource_policy=resource_policy,
            principal_arn=SESSION,
        )
        assert decision.allowed, action
        # across accounts the resource side alone is not enough
        alone = evaluate(
            action,
            arn,
            identity_policies=[],
            resource_policy=resource_policy,
            principal_arn=SESSION,
        )
        assert not alone.allowed, action


@pytest.mark.parametrize(
    ("removed", "denied"),
    [
        ("identity", {"ecr:GetAuthorizationToken", "ecr:CreateRepository", "ecr:BatchGetImage"}),
        ("registry", {"ecr:CreateRepository"}),
        ("repository", {"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}),
    ],
)
def test_without_any_one_of_the_three_policies_the_first_pull_is_denied(
    removed: str, denied: set[str]
) -> None:
    docs = generated(hub_config(), spoke_config())
    docs[removed] = None
    result = {s.action: s.decision for s in steps(docs)}
    assert not all(d.allowed for d in result.values())
    for action in denied:
        assert not result[action].allowed, action


def test_a_repository_outside_the_cache_prefixes_cannot_be_created() -> None:
    docs = generated(hub_config(), spoke_config())
    result = {s.action: s.decision for s in steps(docs, repository="team/app")}
    assert not result["ecr:CreateRepository"].allowed


def test_an_account_the_hub_does_not_name_is_denied() -> None:
    docs = generated(hub_config(f'spoke_accounts = ["{OTHER}"]'), spoke_config())
    result = {s.action: s.decision for s in steps(docs)}
    assert not result["ecr:CreateRepository"].allowed
    assert not result["ecr:BatchGetImage"].allowed


def test_a_role_arn_spoke_admits_that_role_only() -> None:
    docs = generated(hub_config(f'spoke_principals = ["{NODE}"]'), spoke_config())
    assert all(s.decision.allowed for s in steps(docs))
    other = first_pull_steps(
        principal_arn=f"arn:aws:sts::{SPOKE}:assumed-role/ci/1",
        identity_policies=[docs["identity"]],
        registry_policy=docs["registry"],
        repository_policy=docs["repository"],
        partition="aws",
        hub_account_id=HUB,
        hub_region=REGION,
        repository="docker-hub/library/nginx",
    )
    assert not all(s.decision.allowed for s in other)


def test_organization_spokes_need_the_principal_org_id() -> None:
    docs = generated(hub_config(f'organization_id = "{ORG}"'), spoke_config())
    assert all(s.decision.allowed for s in steps(docs, **{"aws:PrincipalOrgID": ORG}))
    result = steps(docs, **{"aws:PrincipalOrgID": "o-zzzzzzzzzz"})
    assert not all(s.decision.allowed for s in result)


def test_organization_paths_narrow_the_organization() -> None:
    path = f"{ORG}/r-ab12/ou-ab12-11111111/*"
    docs = generated(
        hub_config(f'organization_id = "{ORG}"\norganizational_unit_paths = ["{path}"]'),
        spoke_config(),
    )
    inside = [f"{ORG}/r-ab12/ou-ab12-11111111/ou-ab12-22222222/"]
    outside = [f"{ORG}/r-ab12/ou-ab12-33333333/"]
    ok = steps(docs, **{"aws:PrincipalOrgID": ORG, "aws:PrincipalOrgPaths": inside})
    no = steps(docs, **{"aws:PrincipalOrgID": ORG, "aws:PrincipalOrgPaths": outside})
    assert all(s.decision.allowed for s in ok)
    assert not all(s.decision.allowed for s in no)


def test_the_hub_statements_are_merged_into_the_users_template_policy() -> None:
    own = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Audit",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{HUB}:role/audit"},
                "Action": "ecr:DescribeImages",
            }
        ],
    }
    text = json.dumps(own).replace('"', '\\"')
    cfg = hub_config(templates=f'[templates.ROOT]\nrepository_policy = "{text}"\n')
    policy = (
        desired_state(cfg, {}, account_id=HUB, region=REGION).templates["ROOT"].repository_policy
    )
    assert policy is not None
    sids = [s["Sid"] for s in json.loads(policy)["Statement"]]
    assert sorted(sids) == ["Audit", "ecrcache-hub-pull"]


def test_templates_not_for_the_cache_get_no_spoke_statements() -> None:
    cfg = hub_config(templates='[templates.ROOT]\napplied_for = ["CREATE_ON_PUSH"]\n')
    state = desired_state(cfg, {}, account_id=HUB, region=REGION)
    assert state.templates["ROOT"].repository_policy is None
    assert any("spokes cannot pull" in w for w in cfg.warnings())


def test_a_spoke_creates_no_rules_templates_or_secrets() -> None:
    cfg = spoke_config("[ci_policy]\n")
    cfg = cfg.model_copy(update={"templates": hub_config().templates})
    state = desired_state(cfg, {}, account_id=SPOKE, region=REGION)
    assert not state.rules and not state.templates and not state.secrets
    assert not state.registry_policy
    assert sorted(state.iam_policies) == ["ecrcache-ci", "ecrcache-hub-pull"]


WRITES = {
    "ecr:PutLifecyclePolicy",
    "ecr:DeleteLifecyclePolicy",
    "ecr:PutImageTagMutability",
    "ecr:BatchDeleteImage",
    "ecr:DeleteRepository",
    "ecr:PutImage",
    "ecr:InitiateLayerUpload",
}


def test_a_spokes_ci_policy_makes_no_ecr_write_call_on_the_hub() -> None:
    cfg = spoke_config("[ci_policy]\n")
    doc = json.loads(
        desired_state(cfg, {}, account_id=SPOKE, region=REGION).iam_policies["ecrcache-ci"].document
    )
    on_hub = [
        st
        for st in doc["Statement"]
        if any(
            f":{HUB}:" in r
            for r in ([st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"])
        )
    ]
    assert on_hub, "the spoke's CI pulls from the hub's cache repositories"
    actions = {a for st in on_hub for a in st["Action"]}
    assert not actions & WRITES
    assert "ecr:BatchGetImage" in actions
    # and nothing the hub's config does: rules, templates and secrets are made there
    everything = json.dumps(doc)
    assert "ecr:CreatePullThroughCacheRule" not in everything
    assert "ecr:*PullThroughCacheRule*" not in everything
    assert "secretsmanager:CreateSecret" not in everything
    # the spoke's pull policy is one it maintains
    assert f"arn:aws:iam::{SPOKE}:policy/ecrcache-hub-pull" in everything


def test_outputs_and_rewrite_of_a_spoke_name_the_hubs_registry(tmp_path: Path) -> None:
    hub_host = f"{HUB}.dkr.ecr.eu-west-1.amazonaws.com"
    cfg = spoke_config('hub_region = "eu-west-1"\n')
    out = compute_outputs(cfg, account_id=SPOKE, region=REGION, ci_policy_arn=None)
    assert out.registry == hub_host
    assert out.login_command.startswith("aws ecr get-login-password --region eu-west-1 ")
    assert all(p.pull_prefix.startswith(hub_host + "/") for p in out.pull_prefixes)
    path = tmp_path / "ecrcache.toml"
    path.write_text(
        f'region = "{REGION}"\n[rules.quay]\nupstream = "quay"\n'
        f'[spoke]\nhub_account_id = "{HUB}"\nhub_region = "eu-west-1"\n'
    )
    routes = read_routes(path)
    assert routes is not None and routes.registry_of(SPOKE, REGION) == (HUB, "eu-west-1")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[hub]\norganization_id = "o-ABC"\n', "not an AWS Organizations ID"),
        ("[hub]\n", "a hub with no spokes"),
        ('[hub]\nspoke_accounts = ["12"]\n', "12-digit"),
        ('[hub]\nspoke_principals = ["arn:aws:iam::333333333333:user/x"]\n', "role ARN"),
        (
            f'[hub]\norganization_id = "{ORG}"\norganizational_unit_paths = '
            '["o-zzzzzzzzzz/r-ab12/"]\n',
            "not in the organization",
        ),
        (f'[spoke]\nhub_account_id = "{SPOKE}"\n', "the hub is this account"),
        (f'[hub]\nspoke_accounts = ["{OTHER}"]\n[spoke]\nhub_account_id = "{HUB}"\n', "not both"),
    ],
)
def test_invalid_hub_and_spoke_tables(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(f'region = "{REGION}"\naccount_id = "{SPOKE}"\n{text}')
    assert fragment in str(err.value) + str(getattr(err.value, "hint", ""))


def test_too_many_spokes_for_ecrs_policy_limits_is_a_warning() -> None:
    accounts = ", ".join(f'"{n:012d}"' for n in range(500_000_000_000, 500_000_000_700))
    warnings = " ".join(hub_config(f"spoke_accounts = [{accounts}]").warnings())
    assert "templates.ROOT: with the spokes' pull statements" in warnings
    assert "registry policy statements are" in warnings
    assert "templates.ROOT" not in " ".join(hub_config().warnings())
