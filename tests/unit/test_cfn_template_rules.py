"""The template builder's own rules: Fn::Sub only where the account is named (with ``${``
escaped), unique alphanumeric logical IDs, no resource for what the config leaves out."""

from __future__ import annotations

from ecrcache.config.loading import parse_config
from ecrcache.export.cloudformation import ACCOUNT, _sub, cloudformation_template


def test_sub_only_where_the_account_is_named_and_escapes_the_rest() -> None:
    doc = {
        "Resource": f"arn:aws:ecr:af-south-1:{ACCOUNT}:repository/${{aws:username}}/*",
        "Plain": "arn:aws:iam::111122223333:role/x ${aws:username}",
        "Kept": {"Ref": "Param"},
        "List": [f"arn:aws:iam::{ACCOUNT}:root"],
    }
    assert _sub(doc) == {
        "Resource": {
            "Fn::Sub": "arn:aws:ecr:af-south-1:${AWS::AccountId}:repository/${!aws:username}/*"
        },
        "Plain": "arn:aws:iam::111122223333:role/x ${aws:username}",  # no Sub: taken literally
        "Kept": {"Ref": "Param"},
        "List": [{"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}],
    }


def test_logical_ids_are_unique_and_alphanumeric() -> None:
    cfg = parse_config(
        {
            "region": "af-south-1",
            "rules": {"quay": {"upstream": "quay"}},
            "repositories": {"acme/api": {}, "acme-api": {}, "acme_api": {}},
        }
    )
    resources = cloudformation_template(cfg, region="af-south-1")["Resources"]
    assert sorted(resources) == [
        "RepositoryAcmeApi",
        "RepositoryAcmeApi2",
        "RepositoryAcmeApi3",
        "RuleQuay",
    ]
    names = sorted(
        r["Properties"]["RepositoryName"] for k, r in resources.items() if k != "RuleQuay"
    )
    assert names == ["acme-api", "acme/api", "acme_api"]


def test_a_bare_config_is_a_bare_template() -> None:
    """No pullers, scanning, CI policy or credentials: no such resources and no parameters."""
    cfg = parse_config({"region": "af-south-1", "rules": {"k8s": {"upstream": "k8s"}}})
    template = cloudformation_template(cfg, region="af-south-1")
    assert "Parameters" not in template
    assert [r["Type"] for r in template["Resources"].values()] == ["AWS::ECR::PullThroughCacheRule"]


def test_parameters_and_resources_never_share_a_logical_id() -> None:
    """CloudFormation has one namespace for both: secret ``hub``'s token parameter and secret
    ``hub-token``'s resource would both be SecretEcrPullthroughcacheHubToken."""

    def cred(name: str) -> dict[str, object]:
        return {"secret": f"ecr-pullthroughcache/{name}", "username": "u", "token": {"env": "T"}}

    cfg = parse_config(
        {
            "region": "af-south-1",
            "rules": {
                "hub": {"upstream": "docker-hub", "credentials": cred("hub")},
                "hub2": {"upstream": "docker-hub", "credentials": cred("hub-token")},
            },
        }
    )
    template = cloudformation_template(cfg, region="af-south-1")
    ids = [*template["Parameters"], *template["Resources"]]
    assert len(ids) == len(set(ids)) == 6
