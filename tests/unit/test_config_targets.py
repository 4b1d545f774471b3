"""[targets.NAME]: expanding one document into single-target configs (config/targets.py)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ecrcache.config.loading import parse_config
from ecrcache.config.targets import (
    AssumeRole,
    expand_targets,
    resolve_hub_target,
    select,
)
from ecrcache.errors import ConfigError, UsageError

ROLE = "arn:aws:iam::111111111111:role/ecrcache"
BASE: dict[str, Any] = {
    "region": "eu-west-1",
    "rules": {"quay": {"upstream": "quay"}, "k8s": {"upstream": "k8s"}},
    "templates": {"ROOT": {"lifecycle": {"expire_untagged_after_days": 7}}},
    "repositories": {"apps/web": {}},
    "pullers": {"principals": ["arn:aws:iam::111111111111:role/shared-nodes"]},
}


def _doc(**targets: dict[str, Any]) -> dict[str, Any]:
    return {**copy.deepcopy(BASE), "targets": targets}


def _error(doc: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as exc:
        expand_targets(doc, filename="ecrcache.toml")
    return exc.value


def test_a_config_without_targets_is_the_single_account_config() -> None:
    doc = copy.deepcopy(BASE)
    assert expand_targets(doc) == ()
    assert parse_config(doc).targets == {}


def test_regions_become_targets_named_by_region_with_the_roles_account() -> None:
    targets = expand_targets(
        _doc(
            dev={"role_arn": ROLE},
            prod={
                "role_arn": "arn:aws:iam::222222222222:role/deploy",
                "external_id": "ext-1",
                "session_name": "ci@build.1",
                "regions": ["eu-west-1", "us-east-1"],
            },
            local={"region": "af-south-1"},
        )
    )
    assert [(t.name, t.region, t.account_id) for t in targets] == [
        ("dev", "eu-west-1", "111111111111"),
        ("prod/eu-west-1", "eu-west-1", "222222222222"),
        ("prod/us-east-1", "us-east-1", "222222222222"),
        ("local", "af-south-1", None),  # no role: the default credentials' account
    ]
    assert targets[0].assume == AssumeRole(ROLE)
    assert targets[1].assume == AssumeRole(
        "arn:aws:iam::222222222222:role/deploy", "ci@build.1", "ext-1"
    )
    assert targets[3].assume is None
    assert all(t.config.targets == {} for t in targets)


def test_selections_narrow_and_tables_replace_the_shared_ones() -> None:
    nodes = ["arn:aws:iam::111111111111:role/dev-nodes"]
    (dev,) = expand_targets(
        _doc(
            dev={
                "role_arn": ROLE,
                "rules": ["quay"],
                "templates": [],
                "repositories": [],
                "pullers": {"principals": nodes},
                "ci_policy": {"name": "dev-ci"},
            }
        )
    )
    assert sorted(dev.config.rules) == ["quay"]
    assert dev.config.templates == {} and dev.config.repositories == {}
    assert list(dev.config.pullers.principals) == nodes
    assert dev.config.ci_policy.name == "dev-ci"
    (other,) = expand_targets(_doc(other={"role_arn": ROLE}))
    assert sorted(other.config.rules) == ["k8s", "quay"]  # default: all of the shared ones
    assert list(other.config.pullers.principals) == BASE["pullers"]["principals"]


def test_a_selection_naming_nothing_shared_is_an_error_naming_the_target() -> None:
    err = _error(_doc(dev={"role_arn": ROLE, "rules": ["qauy"], "repositories": ["qqq"]}))
    assert err.message == (
        "ecrcache.toml: targets.dev.rules: 'qauy' is not in the shared [rules]; "
        "did you mean 'quay'?"
    )
    assert err.details == (
        "ecrcache.toml: targets.dev.repositories: 'qqq' is not in the shared [repositories]",
    )


@pytest.mark.parametrize(
    ("target", "line"),
    [
        ({"region": "eu-west-1", "regions": ["us-east-1"]}, "targets.t.regions: give region"),
        ({"regions": []}, "targets.t.regions: regions is empty"),
        ({"external_id": "x1"}, "targets.t.external_id: external_id without role_arn"),
        ({"role_arn": ROLE, "session_name": "has space"}, "not a valid AssumeRole session name"),
        ({"role_arn": ROLE, "session_name": "x"}, "not a valid AssumeRole session name"),
        ({"role_arn": ROLE, "external_id": "a b"}, "the external_id is not one STS accepts"),
        ({"role_arn": "arn:aws:iam::1:role/x"}, "is not an IAM role ARN"),
        (
            {"role_arn": ROLE, "account_id": "222222222222"},
            "role_arn is in account 111111111111, not account_id 222222222222",
        ),
        ({"rolearn": ROLE}, "unknown key 'rolearn'; did you mean 'role_arn'?"),
        ({"region": "mars-1"}, "targets.t: region: 'mars-1' is not an AWS region name"),
        ({"pullers": {"principal": []}}, "targets.t: pullers.principal: unknown key"),
    ],
)
def test_mistakes_in_a_target_are_one_line_each(target: dict[str, Any], line: str) -> None:
    assert line in _error(_doc(t=target)).message


def test_a_target_name_is_a_path_element() -> None:
    assert "'a/b' is not a target name" in _error(_doc(**{"a/b": {}})).message


def test_account_wide_resources_get_one_name_per_region() -> None:
    doc = _doc(prod={"role_arn": ROLE, "regions": ["eu-west-1", "us-east-1"]})
    doc["ci_policy"] = {"name": "ecrcache-ci"}
    doc["monitoring"] = {"budget": {"limit_usd": 10, "emails": ["ops@example.com"]}}
    names = [
        (t.config.ci_policy.name, t.config.monitoring.budget.name) for t in expand_targets(doc)
    ]
    assert names == [
        ("ecrcache-ci-eu-west-1", "ecrcache-ecr-monthly-eu-west-1"),
        ("ecrcache-ci-us-east-1", "ecrcache-ecr-monthly-us-east-1"),
    ]


def test_two_targets_may_not_manage_one_account_wide_policy() -> None:
    doc = _doc(a={"role_arn": ROLE}, b={"role_arn": ROLE, "region": "us-east-1"})
    doc["ci_policy"] = {}
    err = _error(doc)
    assert err.message == (
        "ecrcache.toml: targets.b: targets a and b both manage the IAM policy 'ecrcache-ci' in "
        "account 111111111111, which is global to the account"
    )
    doc["targets"]["b"]["ci_policy"] = {"name": "ecrcache-ci-b"}
    assert [t.config.ci_policy.name for t in expand_targets(doc)] == [
        "ecrcache-ci",
        "ecrcache-ci-b",
    ]


def test_hub_target_becomes_the_hubs_account_and_region() -> None:
    bodies = {
        "hub/eu-west-1": {"account_id": "999999999999", "region": "eu-west-1"},
        "hub/us-east-1": {"account_id": "999999999999", "region": "us-east-1"},
        "spoke": {"region": "us-east-1", "spoke": {"hub_target": "hub"}},
    }
    spoke = bodies["spoke"]
    assert resolve_hub_target("spoke", spoke, bodies) == []
    # the hub's region matching the spoke's, when the hub has several
    assert spoke["spoke"] == {"hub_account_id": "999999999999", "hub_region": "us-east-1"}
    lonely = {"region": "af-south-1", "spoke": {"hub_target": "hub"}}
    (problem,) = resolve_hub_target("lonely", lonely, {**bodies, "lonely": lonely})
    assert problem.message == "'hub' has several regions: hub/eu-west-1, hub/us-east-1"
    unknown = {"region": "af-south-1", "spoke": {"hub_target": "hbu"}}
    (problem,) = resolve_hub_target("x", unknown, {"x": unknown})
    assert (problem.path, problem.message) == (
        "targets.x.spoke.hub_target",
        "no target is named 'hbu'",
    )


def test_select_picks_names_and_all_regions_of_a_name() -> None:
    targets = expand_targets(
        _doc(dev={"role_arn": ROLE}, prod={"role_arn": ROLE, "regions": ["eu-west-1", "us-east-1"]})
    )
    assert select(targets, []) == targets
    assert [t.name for t in select(targets, ["prod"])] == ["prod/eu-west-1", "prod/us-east-1"]
    assert [t.name for t in select(targets, ["prod/us-east-1", "dev"])] == [
        "dev",
        "prod/us-east-1",
    ]
    with pytest.raises(UsageError) as exc:
        select(targets, ["qa"])
    assert exc.value.hint == "targets in the config: dev, prod/eu-west-1, prod/us-east-1"
