"""`plan --prune` and `apply --prune --force` delete only what is provably ecrcache's
(reconcile/ownership.py): an account shared with another team keeps that team's templates and
rules, read back unchanged after the apply. Also: adopting a template ecrcache made before it
marked its templates, through the config and through `import`, and a second apply that makes no
mutating call. Run in-process against moto (fixture ``aws``), as a user runs the commands."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from ecrcache.aws import CALL_OBSERVERS, READ_PREFIXES, Clients
from ecrcache.cli.app import run

REGION = "af-south-1"
TOKEN = "dckr_pat_0123456789abcdefTOKEN"
MARK = "[managed-by=ecrcache]"
LIFECYCLE = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "description": "team b keeps 3",
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": 3,
                },
                "action": {"type": "expire"},
            }
        ]
    }
)

OURS = f"""version = 1
region = "{REGION}"

[rules.docker-hub]
upstream = "docker-hub"
[rules.docker-hub.credentials]
secret = "ecr-pullthroughcache/docker-hub"
username = "bot"
token = {{ env = "DH_TOKEN" }}

[rules.quay]
upstream = "quay"

[templates.docker-hub]
description = "docker hub cache"
[templates.docker-hub.lifecycle]
keep_last = 5

[templates.quay]
[templates.quay.lifecycle]
keep_last = 7
"""

# the same account later: docker-hub (its rule, secret and template) removed from the config
KEPT = f"""version = 1
region = "{REGION}"

[rules.quay]
upstream = "quay"

[templates.quay]
[templates.quay.lifecycle]
keep_last = 7
"""


@pytest.fixture
def account(
    aws: boto3.session.Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> boto3.session.Session:
    """ecrcache's config applied, beside another team's ROOT and prefix templates and rules."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DH_TOKEN", TOKEN)
    monkeypatch.setenv("ECRCACHE_SANDBOX_LISTSECRETS_LAG", "0")
    (tmp_path / "ours.toml").write_text(OURS)
    (tmp_path / "kept.toml").write_text(KEPT)
    ecr = aws.client("ecr")
    ecr.create_repository_creation_template(
        prefix="ROOT",
        description="team b: every repository",
        appliedFor=["PULL_THROUGH_CACHE", "CREATE_ON_PUSH"],
        lifecyclePolicy=LIFECYCLE,
    )
    ecr.create_repository_creation_template(prefix="team-b", appliedFor=["REPLICATION"])
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="team-b-k8s", upstreamRegistryUrl="registry.k8s.io"
    )
    sm = aws.client("secretsmanager", region_name=REGION)
    arn = sm.create_secret(
        Name="ecr-pullthroughcache/team-b",
        SecretString=json.dumps({"username": "b", "accessToken": "b"}),
        Tags=[{"Key": "team", "Value": "b"}],
    )["ARN"]
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="team-b-gh",
        upstreamRegistryUrl="ghcr.io",
        upstreamRegistry="github-container-registry",
        credentialArn=arn,
    )
    code, _, err = cli("apply", "-c", "ours.toml", "--yes")
    assert code == 0, err
    return aws


_CAPTURE: list[pytest.CaptureFixture[str]] = []


@pytest.fixture(autouse=True)
def _capture(capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    _CAPTURE.append(capsys)
    yield
    _CAPTURE.remove(capsys)


def cli(*args: str) -> tuple[int, str, str]:
    """``ecrcache ARGS`` in-process; (exit code, stdout, stderr)."""
    code = run(list(args))
    out, err = _CAPTURE[-1].readouterr()
    return code, out, err


def json_doc(*args: str) -> dict[str, Any]:
    code, out, err = cli(*args, "-o", "json")
    doc: dict[str, Any] = json.loads(out)
    assert code in (0, 2), err
    return doc


@pytest.fixture
def mutating() -> Iterator[list[str]]:
    """Every mutating AWS call ecrcache makes inside the block, as ``service.Operation``."""
    seen: list[str] = []

    def observe(_clients: Clients, service: str, op: str, _params: dict[str, Any]) -> None:
        if not op.startswith(READ_PREFIXES):
            seen.append(f"{service}.{op}")

    CALL_OBSERVERS.append(observe)
    try:
        yield seen
    finally:
        CALL_OBSERVERS.remove(observe)


def others(session: boto3.session.Session) -> dict[str, Any]:
    """The other team's resources as the API returns them (timestamps dropped)."""
    ecr = session.client("ecr")
    templates = ecr.describe_repository_creation_templates()["repositoryCreationTemplates"]
    rules = ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"]
    secret = session.client("secretsmanager", region_name=REGION).describe_secret(
        SecretId="ecr-pullthroughcache/team-b"
    )

    def plain(d: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in d.items() if k not in ("createdAt", "updatedAt")}

    return {
        "templates": [plain(t) for t in templates if t["prefix"] in ("ROOT", "team-b")],
        "rules": [plain(r) for r in rules if r["ecrRepositoryPrefix"].startswith("team-b")],
        "secret": {k: secret.get(k) for k in ("ARN", "Tags", "DeletedDate")},
    }


FOREIGN = ["rule.team-b-gh", "rule.team-b-k8s", "template.ROOT", "template.team-b"]


def test_prune_deletes_only_ecrcaches_own(
    account: boto3.session.Session, mutating: list[str]
) -> None:
    before = others(account)
    doc = json_doc("plan", "-c", "kept.toml", "--prune")
    deletes = {c["address"] for c in doc["data"]["changes"] if c["action"] == "delete"}
    assert deletes == {
        "rule.docker-hub",
        "secret.ecr-pullthroughcache/docker-hub",
        "template.docker-hub",
    }
    assert sorted(doc["data"]["unmanaged"]) == FOREIGN
    (note,) = [w for w in doc["warnings"] if "Not provably ecrcache's" in w]
    assert all(address in note for address in FOREIGN)
    assert "ecrcache import" in note and "delete-pull-through-cache-rule" in note
    assert mutating == []  # plan reads only

    # Without --prune a rule's secret may not be read (the listing lags): no note may say a
    # rule is never deleted, only what decides it
    doc = json_doc("plan", "-c", "kept.toml")
    (rules_note,) = [w for w in doc["warnings"] if w.startswith("Rules not in the config")]
    assert "rule.team-b-gh" in rules_note and "plan --prune` shows which" in rules_note
    assert not any("rule." in w and "never deletes" in w for w in doc["warnings"])

    code, out, err = cli("apply", "-c", "kept.toml", "--prune", "--force", "--yes")
    assert code == 0, err
    assert "0 added, 0 changed, 0 replaced, 3 destroyed" in out
    assert sorted(mutating) == [
        "ecr.DeletePullThroughCacheRule",
        "ecr.DeleteRepositoryCreationTemplate",
        "secretsmanager.DeleteSecret",
    ]
    assert others(account) == before  # read back: untouched
    ecr = account.client("ecr")
    prefixes = {
        t["prefix"]
        for t in ecr.describe_repository_creation_templates()["repositoryCreationTemplates"]
    }
    assert prefixes == {"ROOT", "team-b", "quay"}


def test_a_second_prune_makes_no_mutating_call(
    account: boto3.session.Session, mutating: list[str]
) -> None:
    code, _, err = cli("apply", "-c", "kept.toml", "--prune", "--force", "--yes")
    assert code == 0, err
    mutating.clear()
    code, _, err = cli("apply", "-c", "kept.toml", "--prune", "--force", "--yes")
    assert code == 0, err
    assert mutating == []
    code, _, err = cli("plan", "-c", "kept.toml", "--prune", "--detailed-exitcode")
    assert code == 0, err


def test_ecrcaches_templates_carry_the_marker_and_keep_the_users_text(
    account: boto3.session.Session,
) -> None:
    ecr = account.client("ecr")
    described = {
        t["prefix"]: t.get("description")
        for t in ecr.describe_repository_creation_templates()["repositoryCreationTemplates"]
    }
    assert described["docker-hub"] == f"docker hub cache {MARK}"
    assert described["quay"] == MARK
    assert described["ROOT"] == "team b: every repository"  # never written


def test_a_template_made_before_the_marker_is_adopted_by_an_update(
    aws: boto3.session.Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mutating: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "kept.toml").write_text(KEPT)
    code, _, err = cli("apply", "-c", "kept.toml", "--yes")
    assert code == 0, err
    # as an ecrcache before this change left it: the same template, without the marker
    ecr = aws.client("ecr")
    ecr.update_repository_creation_template(prefix="quay", description="")
    assert not ecr.describe_repository_creation_templates(prefixes=["quay"])[
        "repositoryCreationTemplates"
    ][0].get("description")
    unmarked = json_doc("plan", "-c", "kept.toml")
    (change,) = unmarked["data"]["changes"]
    assert (change["address"], change["action"]) == ("template.quay", "update")
    assert [(f["name"], f["before"], f["after"]) for f in change["fields"]] == [
        ("description", None, MARK)
    ]
    assert "adopted" in change["reason"]
    # not marked, it is not ecrcache's: removed from the config, a prune leaves it
    (tmp_path / "none.toml").write_text(f'version = 1\nregion = "{REGION}"\n')
    pruned = json_doc("plan", "-c", "none.toml", "--prune")
    assert "template.quay" not in {c["address"] for c in pruned["data"]["changes"]}
    assert "template.quay" in pruned["data"]["unmanaged"]

    mutating.clear()
    code, _, err = cli("apply", "-c", "kept.toml", "--yes")
    assert code == 0, err
    assert mutating == ["ecr.UpdateRepositoryCreationTemplate"]
    (t,) = ecr.describe_repository_creation_templates(prefixes=["quay"])[
        "repositoryCreationTemplates"
    ]
    assert t["description"] == MARK
    assert json.loads(t["lifecyclePolicy"])["rules"][0]["selection"]["countNumber"] == 7
    # marked now: the prune deletes it
    pruned = json_doc("plan", "-c", "none.toml", "--prune")
    assert ("template.quay", "delete") in {
        (c["address"], c["action"]) for c in pruned["data"]["changes"]
    }


def test_import_writes_a_config_whose_apply_adds_the_marker(
    aws: boto3.session.Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mutating: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    ecr = aws.client("ecr")
    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="quay", upstreamRegistryUrl="quay.io")
    ecr.create_repository_creation_template(
        prefix="quay", description="made by hand", appliedFor=["PULL_THROUGH_CACHE"]
    )
    code, _, err = cli("import", "--region", REGION, "--out", "imported.toml")
    assert code == 0, err
    text = (tmp_path / "imported.toml").read_text()
    assert 'description = "made by hand"' in text and MARK not in text
    assert "not marked as ecrcache's yet" in err + text
    mutating.clear()
    code, _, err = cli("apply", "-c", "imported.toml", "--yes")
    assert code == 0, err
    assert mutating == ["ecr.UpdateRepositoryCreationTemplate"]
    (t,) = ecr.describe_repository_creation_templates(prefixes=["quay"])[
        "repositoryCreationTemplates"
    ]
    assert t["description"] == f"made by hand {MARK}"
    mutating.clear()
    code, _, err = cli("apply", "-c", "imported.toml", "--yes")
    assert code == 0 and mutating == [], err
    # imported again, the marker stays out of the user's text
    code, _, err = cli("import", "--region", REGION, "--out", "again.toml")
    assert code == 0, err
    assert 'description = "made by hand"' in (tmp_path / "again.toml").read_text()


def test_a_rules_secret_is_confirmed_by_its_arn_not_by_the_lagging_listing(
    aws: boto3.session.Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ListSecrets "might not reflect changes from the last five minutes" (Secrets Manager API
    # reference): right after the apply it does not show the secret yet, and the rule is still
    # known to be ecrcache's, by DescribeSecret on the ARN it holds.
    from ecrcache.sandbox import secrets_consistency

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DH_TOKEN", TOKEN)
    (tmp_path / "ours.toml").write_text(OURS)
    (tmp_path / "kept.toml").write_text(KEPT)
    secrets_consistency.set_window(300)
    try:
        code, _, err = cli("apply", "-c", "ours.toml", "--yes")
        assert code == 0, err
        listed = aws.client("secretsmanager", region_name=REGION).list_secrets()["SecretList"]
        assert listed == []  # the lag, as AWS may show it
        doc = json_doc("plan", "-c", "kept.toml", "--prune")
    finally:
        secrets_consistency.set_window(None)
    deletes = {c["address"] for c in doc["data"]["changes"] if c["action"] == "delete"}
    assert deletes == {
        "rule.docker-hub",
        "secret.ecr-pullthroughcache/docker-hub",
        "template.docker-hub",
    }
