"""A table of bad configs: each must fail with its message fragment and exit code, one line
per problem, no traceback, and never an echo of a credential written into the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecrcache.cli.app import run

HEAD = 'version = 1\nregion = "af-south-1"\n'
DH_CRED = (
    '[rules.docker-hub.credentials]\nsecret = "ecr-pullthroughcache/docker-hub"\n'
    'username = "u"\ntoken = { env = "T" }\n'
)

# (id, file body, fragment expected in stderr, exit code)
CASES: list[tuple[str, str, str, int]] = [
    ("empty-file", "", "region: is required", 2),
    ("not-toml", "region = ", "not valid TOML", 2),
    ("bad-version", 'version = 2\nregion = "af-south-1"\n', "config version 2 is not supported", 2),
    ("bad-region", 'region = "Africa"\n', "'Africa' is not an AWS region name", 2),
    ("region-number", "region = 5\n", "region: input should be a valid string", 2),
    ("account-int", HEAD + "account_id = 123456789012\n", "account_id must be a string", 2),
    ("account-short", HEAD + 'account_id = "1234"\n', "not a 12-digit AWS account ID", 2),
    ("unknown-top-key", HEAD + "rulez = {}\n", "unknown key 'rulez'; did you mean 'rules'?", 2),
    (
        "unknown-rule-key",
        HEAD + '[rules.quay]\nupstream = "quay"\nurll = "x"\n',
        "rules.quay.urll: unknown key 'urll'; did you mean 'url'?",
        2,
    ),
    (
        "unknown-upstream",
        HEAD + '[rules.dh]\nupstream = "dockerhub"\n',
        "did you mean 'docker-hub'?",
        2,
    ),
    (
        "gcr-unsupported",
        HEAD + '[rules.gcr]\nupstream = "gcr"\n',
        "'gcr' is not an upstream ECR supports",
        2,
    ),
    ("missing-upstream", HEAD + "[rules.quay]\n", "rules.quay.upstream: is required", 2),
    (
        "prefix-uppercase",
        HEAD + '[rules.Quay]\nupstream = "quay"\n',
        "prefix 'Quay' is not valid",
        2,
    ),
    (
        "prefix-too-long",
        HEAD + "[rules." + "a" * 31 + ']\nupstream = "quay"\n',
        "has 31 characters; ECR takes 2 to 30",
        2,
    ),
    ("prefix-too-short", HEAD + '[rules.q]\nupstream = "quay"\n', "has 1 characters", 2),
    (
        "prefix-triple-underscore",
        HEAD + '[rules.a___b]\nupstream = "quay"\n',
        "prefix 'a___b' is not valid",
        2,
    ),
    (
        "prefix-trailing-dash",
        HEAD + '[rules.quay-]\nupstream = "quay"\n',
        "prefix 'quay-' is not valid",
        2,
    ),
    (
        "prefix-trailing-slash",
        HEAD + '[rules."quay/"]\nupstream = "quay"\n',
        "without the trailing slash",
        2,
    ),
    (
        "prefix-as-key",
        HEAD + '[rules.quay]\nupstream = "quay"\nprefix = "quay"\n',
        "the prefix is the table key",
        2,
    ),
    (
        "dockerhub-no-credentials",
        HEAD + '[rules.docker-hub]\nupstream = "docker-hub"\n',
        "Docker Hub needs credentials",
        2,
    ),
    (
        "ghcr-no-credentials",
        HEAD + '[rules.github]\nupstream = "github-container-registry"\n',
        "GitHub Container Registry needs credentials",
        2,
    ),
    (
        "gitlab-no-credentials",
        HEAD + '[rules.gitlab]\nupstream = "gitlab-container-registry"\n',
        "needs credentials",
        2,
    ),
    (
        "chainguard-no-credentials",
        HEAD + '[rules.cg]\nupstream = "chainguard"\n',
        "Chainguard Registry needs credentials",
        2,
    ),
    (
        "quay-with-credentials",
        HEAD + '[rules.quay]\nupstream = "quay"\n'
        '[rules.quay.credentials]\nsecret = "ecr-pullthroughcache/q"\n',
        "Quay takes no credentials",
        2,
    ),
    (
        "dockerhub-wrong-url",
        HEAD + '[rules.docker-hub]\nupstream = "docker-hub"\nurl = "docker.io"\n' + DH_CRED,
        "Docker Hub must use url 'registry-1.docker.io'",
        2,
    ),
    (
        "quay-wrong-url",
        HEAD + '[rules.quay]\nupstream = "quay"\nurl = "https://quay.io"\n',
        "must use url 'quay.io'",
        2,
    ),
    (
        "acr-no-url",
        HEAD + '[rules.azure]\nupstream = "azure-container-registry"\n'
        '[rules.azure.credentials]\nsecret = "ecr-pullthroughcache/azure"\n',
        "needs the upstream registry's url",
        2,
    ),
    (
        "acr-bad-url",
        HEAD + '[rules.azure]\nupstream = "azure-container-registry"\n'
        'url = "myregistry.example.com"\n[rules.azure.credentials]\n'
        'secret = "ecr-pullthroughcache/azure"\n',
        "is not a Azure Container Registry registry host",
        2,
    ),
    (
        "ecr-no-url",
        HEAD + '[rules.mirror]\nupstream = "ecr"\n',
        "needs the upstream registry's url",
        2,
    ),
    (
        "ecr-bad-url",
        HEAD + '[rules.mirror]\nupstream = "ecr"\nurl = "ecr.aws"\n',
        "is not a Amazon ECR",
        2,
    ),
    (
        "ecr-cross-account-no-role",
        HEAD + 'account_id = "123456789012"\n[rules.mirror]\n'
        'upstream = "ecr"\nurl = "111122223333.dkr.ecr.eu-west-1.amazonaws.com"\n',
        "rules.mirror.role_arn: an ECR upstream in another account (111122223333) needs role_arn",
        2,
    ),
    (
        "ecr-role-other-account",
        HEAD + 'account_id = "123456789012"\n[rules.mirror]\n'
        'upstream = "ecr"\nurl = "111122223333.dkr.ecr.eu-west-1.amazonaws.com"\n'
        'role_arn = "arn:aws:iam::999999999999:role/x"\n',
        "the role must be in this registry's account",
        2,
    ),
    (
        "ecr-role-not-arn",
        HEAD + '[rules.mirror]\nupstream = "ecr"\n'
        'url = "111122223333.dkr.ecr.eu-west-1.amazonaws.com"\nrole_arn = "my-role"\n',
        "'my-role' is not an IAM role ARN",
        2,
    ),
    (
        "role-on-quay",
        HEAD + '[rules.quay]\nupstream = "quay"\nrole_arn = "arn:aws:iam::123456789012:role/x"\n',
        "role_arn is only for ECR upstreams",
        2,
    ),
    (
        "ecr-with-credentials",
        HEAD + '[rules.mirror]\nupstream = "ecr"\n'
        'url = "111122223333.dkr.ecr.eu-west-1.amazonaws.com"\n[rules.mirror.credentials]\n'
        'secret = "ecr-pullthroughcache/m"\n',
        "use role_arn for another account's ECR",
        2,
    ),
    (
        "root-with-upstream-prefix",
        HEAD + '[rules.ROOT]\nupstream = "quay"\nupstream_prefix = "team"\n',
        "upstream_prefix needs a prefix other than ROOT",
        2,
    ),
    (
        "upstream-prefix-invalid",
        HEAD + '[rules.quay]\nupstream = "quay"\nupstream_prefix = "Team"\n',
        "prefix 'Team' is not valid",
        2,
    ),
    (
        "secret-wrong-prefix",
        HEAD + '[rules.docker-hub]\nupstream = "docker-hub"\n'
        '[rules.docker-hub.credentials]\nsecret = "builder-space-dockerhub-credentials"\n',
        "must start with 'ecr-pullthroughcache/'",
        2,
    ),
    (
        "secret-arn",
        HEAD + '[rules.docker-hub]\nupstream = "docker-hub"\n'
        "[rules.docker-hub.credentials]\n"
        'secret = "arn:aws:secretsmanager:af-south-1:123456789012:secret:ecr-pullthroughcache/x"\n',
        "give the secret's name, not its ARN",
        2,
    ),
    (
        "secret-bad-chars",
        HEAD + '[rules.docker-hub]\nupstream = "docker-hub"\n'
        '[rules.docker-hub.credentials]\nsecret = "ecr-pullthroughcache/a b"\n',
        "is not valid",
        2,
    ),
    (
        "secret-missing-name",
        HEAD + '[rules.docker-hub]\nupstream = "docker-hub"\n'
        '[rules.docker-hub.credentials]\nusername = "u"\n',
        "credentials.secret: is required",
        2,
    ),
    (
        "token-literal",
        HEAD + '[rules.docker-hub]\nupstream = "docker-hub"\n'
        '[rules.docker-hub.credentials]\nsecret = "ecr-pullthroughcache/d"\nusername = "u"\n'
        'token = "dckr_pat_SHOULDNEVERBEPRINTED"\n',
        "a token cannot be written in the config file",
        2,
    ),
    (
        "token-two-sources",
        HEAD + '[rules.docker-hub]\nupstream = "docker-hub"\n'
        '[rules.docker-hub.credentials]\nsecret = "ecr-pullthroughcache/d"\nusername = "u"\n'
        'token = { env = "A", file = "b" }\n',
        "give exactly one of env, file, stdin or command",
        2,
    ),
    (
        "token-no-source",
        HEAD + '[rules.docker-hub]\nupstream = "docker-hub"\n'
        '[rules.docker-hub.credentials]\nsecret = "ecr-pullthroughcache/d"\nusername = "u"\n'
        "token = {}\n",
        "give exactly one of env, file, stdin or command",
        2,
    ),
    (
        "token-typo-key",
        HEAD + '[rules.docker-hub]\nupstream = "docker-hub"\n'
        '[rules.docker-hub.credentials]\nsecret = "ecr-pullthroughcache/d"\nusername = "u"\n'
        'token = { evn = "A" }\n',
        "unknown key 'evn'; did you mean 'env'?",
        2,
    ),
    (
        "token-bad-env-name",
        HEAD + '[rules.docker-hub]\nupstream = "docker-hub"\n'
        '[rules.docker-hub.credentials]\nsecret = "ecr-pullthroughcache/d"\nusername = "u"\n'
        'token = { env = "DOCKER HUB" }\n',
        "is not an environment variable name",
        2,
    ),
    (
        "token-empty-command",
        HEAD + '[rules.docker-hub]\nupstream = "docker-hub"\n'
        '[rules.docker-hub.credentials]\nsecret = "ecr-pullthroughcache/d"\nusername = "u"\n'
        "token = { command = [] }\n",
        "command must name a program",
        2,
    ),
    (
        "token-without-username",
        HEAD + '[rules.docker-hub]\nupstream = "docker-hub"\n'
        '[rules.docker-hub.credentials]\nsecret = "ecr-pullthroughcache/d"\n'
        'token = { env = "T" }\n',
        "a token needs a username",
        2,
    ),
    (
        "shared-secret-conflict",
        HEAD
        + '[rules.docker-hub]\nupstream = "docker-hub"\n'
        + DH_CRED
        + '[rules.hub2]\nupstream = "docker-hub"\n[rules.hub2.credentials]\n'
        'secret = "ecr-pullthroughcache/docker-hub"\nusername = "other"\ntoken = { env = "T" }\n',
        "is also used by rules.docker-hub with other settings",
        2,
    ),
    (
        "two-stdin-sources",
        HEAD + '[rules.docker-hub]\nupstream = "docker-hub"\n'
        '[rules.docker-hub.credentials]\nsecret = "ecr-pullthroughcache/a"\nusername = "u"\n'
        'token = { stdin = true }\n[rules.github]\nupstream = "github-container-registry"\n'
        '[rules.github.credentials]\nsecret = "ecr-pullthroughcache/b"\nusername = "u"\n'
        "token = { stdin = true }\n",
        "only one credential value can be read from standard input",
        2,
    ),
    (
        "too-many-rules",
        HEAD + "".join(f'[rules.q{i:02d}]\nupstream = "quay"\n' for i in range(51)),
        "51 rules; ECR allows 50 per registry",
        2,
    ),
    (
        "safety-threshold-range",
        HEAD + "[safety]\nupdate_threshold = 2\n",
        "safety.update_threshold: input should be less than or equal to 1",
        2,
    ),
    (
        "safety-unknown",
        HEAD + "[safety]\nupdate_treshold = 0.5\n",
        "did you mean 'update_threshold'?",
        2,
    ),
    ("rules-not-table", HEAD + 'rules = "quay"\n', "rules: input should be a valid dictionary", 2),
]


@pytest.mark.parametrize(
    ("body", "fragment", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, fragment: str, code: int
) -> None:
    path = tmp_path / "ecrcache.toml"
    path.write_text(body)
    assert run(["validate", "-c", str(path)]) == code
    out, err = capsys.readouterr()
    assert out == ""
    flat = " ".join(err.split())
    assert fragment in flat, err
    assert "Traceback" not in err
    assert str(path) in err  # names the file
    assert "SHOULDNEVERBEPRINTED" not in err


def test_at_least_forty_cases() -> None:
    assert len(CASES) >= 40
    assert len({c[0] for c in CASES}) == len(CASES)


def test_several_problems_each_get_a_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(HEAD + '[rules.quay]\nupstream = "quayy"\n[rules.k8s]\nupstream = "k9s"\n')
    assert run(["validate", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert "rules.quay.upstream" in err and "rules.k8s.upstream" in err


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["validate", "-c", str(tmp_path / "nope.toml")]) == 2
    err = capsys.readouterr().err
    assert "no such file" in err and "Hint:" in err


def test_example_config_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    example = Path(__file__).parents[2] / "config.example.toml"
    assert run(["validate", "-c", str(example)]) == 0
    out = capsys.readouterr().out
    assert "5 rules in af-south-1" in out


def test_validate_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import json

    path = tmp_path / "c.toml"
    path.write_text(HEAD + '[rules.quay]\nupstream = "quay"\n')
    assert run(["validate", "-c", str(path), "--output", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["data"]["rules"] == [
        {"prefix": "quay", "upstream": "quay", "url": "quay.io", "credentials": None}
    ]
