"""rewrite's quick read of the config: the same routes as the validated config, and every file
that is not plainly right left to the validator, whose message rewrite then prints."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.test_config_errors import CASES

from ecrcache.cli.app import run
from ecrcache.config.loading import load_config
from ecrcache.config.rules import RuleConfig
from ecrcache.config.schema import Config
from ecrcache.rewrite.config_routes import RULE_KEYS, TOP_KEYS, read_routes
from ecrcache.rewrite.mapping import routes_from_rules

REPO = Path(__file__).resolve().parents[2]

# Bad configs whose mistakes are outside what rewrite reads (credentials, roles, safety, the
# rule count): rewrite maps references with them; validate, plan and apply refuse them.
REWRITE_READS_ANYWAY = {
    "dockerhub-no-credentials",
    "ghcr-no-credentials",
    "gitlab-no-credentials",
    "chainguard-no-credentials",
    "quay-with-credentials",
    "ecr-cross-account-no-role",
    "ecr-role-other-account",
    "ecr-role-not-arn",
    "role-on-quay",
    "ecr-with-credentials",
    "secret-wrong-prefix",
    "secret-arn",
    "secret-bad-chars",
    "secret-missing-name",
    "token-literal",
    "token-two-sources",
    "token-no-source",
    "token-typo-key",
    "token-bad-env-name",
    "token-empty-command",
    "token-without-username",
    "shared-secret-conflict",
    "two-stdin-sources",
    "too-many-rules",
    "safety-threshold-range",
    "safety-unknown",
}


def test_the_keys_are_the_schemas() -> None:
    assert set(Config.model_fields) == TOP_KEYS
    assert set(RuleConfig.model_fields) - {"prefix"} == RULE_KEYS


@pytest.mark.parametrize(
    "path",
    [REPO / "config.example.toml", REPO / "tests" / "data" / "rewrite" / "ecrcache.toml"],
    ids=lambda p: p.name,
)
def test_same_routes_as_the_validated_config(path: Path) -> None:
    quick, full = read_routes(path), load_config(path)
    assert quick is not None
    assert (quick.region, quick.account_id) == (full.region, full.account_id)
    assert routes_from_rules(quick.rule_list) == routes_from_rules(full.rule_list)
    assert len(quick.rule_list) == 5


def test_an_ecr_upstream_with_its_prefix(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        'version = 1\nregion = "cn-north-1"\naccount_id = "123456789012"\n'
        '[rules.mirror]\nupstream = "ecr"\nurl = "111122223333.dkr.ecr.eu-west-1.amazonaws.com"\n'
        'upstream_prefix = "team-a"\nrole_arn = "arn:aws:iam::123456789012:role/r"\n'
    )
    quick = read_routes(path)
    assert quick is not None
    assert routes_from_rules(quick.rule_list) == routes_from_rules(load_config(path).rule_list)


@pytest.mark.parametrize(("body", "fragment"), [c[1:3] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_configs(
    body: str,
    fragment: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    case = request.node.callspec.id
    path = tmp_path / "ecrcache.toml"
    path.write_text(body)
    code = run(["-c", str(path), "rewrite", "--account-id", "123456789012", "quay.io/a/b"])
    out, err = capsys.readouterr()
    if case in REWRITE_READS_ANYWAY:
        assert read_routes(path) is not None
        assert code == 0
    else:
        assert read_routes(path) is None
        assert (code, out) == (2, "")
        assert fragment in " ".join(err.split())  # the validator's own message


@pytest.mark.parametrize(
    "extra",
    [
        '[rules.hub]\nupstream = "docker-hub"\nurl = "docker.io"\n',  # not the URL ECR takes
        '[rules.acr]\nupstream = "azure-container-registry"\n',  # needs a url
        '[rules.acr]\nupstream = "azure-container-registry"\nurl = "https://x.azurecr.io"\n',
        '[rules."quay/"]\nupstream = "quay"\n',  # trailing slash: "quay//a" is no reference
        '[rules.ROOT]\nupstream = "quay"\nupstream_prefix = "x"\n',
        '[rules.quay]\nupstream = "quay"\nupstream_prefix = "Team"\n',
        '[rules.quay]\nupstream = "quay"\nurl = 5\n',
        "[rules]\nquay = 1\n",
    ],
)
def test_routing_mistakes_go_to_the_validator(extra: str, tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('version = 1\nregion = "af-south-1"\n' + extra)
    assert read_routes(path) is None
