"""Secret checks on the sandbox: fail, apply the printed fix as printed, pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from doctor_support import EXAMPLE, Doctor, account

GOOD = json.dumps({"username": "bot", "accessToken": "t0ken"})
# A rule whose secret the config only references (no token): ecrcache never writes it.
REFERENCED = (
    '\n[rules.gitlab]\nupstream = "gitlab-container-registry"\n'
    '[rules.gitlab.credentials]\nsecret = "ecr-pullthroughcache/gitlab"\nusername = "bot"\n'
)


def _yes(result: dict) -> None:  # type: ignore[type-arg]
    result["fix"]["commands"] = [
        c + " --yes" if c.split()[-1] == "apply" else c for c in result["fix"]["commands"]
    ]


@pytest.fixture
def doctor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Doctor:
    d = Doctor(tmp_path, capsys, EXAMPLE.read_text() + REFERENCED)
    with account() as s:
        s.client("secretsmanager").create_secret(
            Name="ecr-pullthroughcache/gitlab", SecretString=GOOD
        )
    d.apply()
    return d


def test_secret_exists_missing_referenced_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = Doctor(tmp_path, capsys, EXAMPLE.read_text() + REFERENCED)
    r = d.check("secret.exists")  # nothing applied: no secret yet
    assert r["status"] == "fail"
    assert "ecr-pullthroughcache/gitlab does not exist" in r["finding"]
    create = [c for c in r["fix"]["commands"] if "create-secret" in c]
    assert create == [
        "aws secretsmanager create-secret --name ecr-pullthroughcache/gitlab --secret-string "
        '\'{"accessToken":"<access-token>","username":"bot"}\' --region af-south-1'
    ]
    _yes(r)
    d.fix(r)  # creates gitlab's secret, and apply creates the managed ones
    assert d.check("secret.exists")["status"] == "pass"


def test_secret_exists_scheduled_for_deletion(doctor: Doctor) -> None:
    assert doctor.check("secret.exists")["status"] == "pass"
    with account() as s:
        s.client("secretsmanager").delete_secret(SecretId="ecr-pullthroughcache/gitlab")
    r = doctor.check("secret.exists")
    assert r["status"] == "fail" and "scheduled for deletion" in r["finding"]
    doctor.fix(r)
    assert doctor.check("secret.exists")["status"] == "pass"


def test_secret_location_other_region(doctor: Doctor) -> None:
    assert doctor.check("secret.location")["status"] == "pass"
    with account():
        # ECR checks the region when the rule is made; a rule left pointing elsewhere (the
        # secret was moved, or another tool wrote it) is set directly on the simulated backend.
        from moto.ecr.models import ecr_backends

        from ecrcache.sandbox.models import rules_of

        rule = rules_of(ecr_backends["123456789012"]["af-south-1"])["gitlab"]
        rule.credential_arn = (
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:"
            "ecr-pullthroughcache/gitlab-AbCdEf"
        )
    r = doctor.check("secret.location")
    assert r["status"] == "fail" and "it is in eu-west-1, not af-south-1" in r["details"][0]
    (cmd,) = r["fix"]["commands"]
    assert cmd.startswith(
        "aws ecr update-pull-through-cache-rule --ecr-repository-prefix gitlab --credential-arn "
        "arn:aws:secretsmanager:af-south-1:123456789012:secret:ecr-pullthroughcache/gitlab-"
    )
    doctor.fix(r)
    assert doctor.check("secret.location")["status"] == "pass"


def test_secret_keys_referenced_secret(doctor: Doctor) -> None:
    assert doctor.check("secret.keys")["status"] == "pass"
    with account() as s:
        s.client("secretsmanager").put_secret_value(
            SecretId="ecr-pullthroughcache/gitlab", SecretString='{"user":"bot","token":"x"}'
        )
    r = doctor.check("secret.keys")
    assert r["status"] == "fail"
    assert r["details"] == [
        "ecr-pullthroughcache/gitlab: missing or empty key(s) username, accessToken "
        "(has token, user)"
    ]
    assert "put-secret-value --secret-id ecr-pullthroughcache/gitlab" in r["fix"]["commands"][0]
    doctor.fix(r)
    assert doctor.check("secret.keys")["status"] == "pass"


def test_secret_keys_managed_secret_rewritten_by_apply(
    doctor: Doctor, monkeypatch: pytest.MonkeyPatch
) -> None:
    with account() as s:
        s.client("secretsmanager").put_secret_value(
            SecretId="ecr-pullthroughcache/github", SecretString="not json"
        )
    r = doctor.check("secret.keys")
    assert r["status"] == "fail" and r["details"] == [
        "ecr-pullthroughcache/github: the value is not JSON"
    ]
    assert "environment variable GHCR_TOKEN" in r["fix"]["summary"]
    _yes(r)
    # As the fix says: with the token set, apply rewrites the value. (Unset, the sandbox leaves
    # an existing secret as it is, as a real account does: its placeholder only creates.)
    monkeypatch.setenv("GHCR_TOKEN", "ghp_" + "a" * 36)
    doctor.fix(r)
    assert doctor.check("secret.keys")["status"] == "pass"


def test_secret_kms_custom_key(doctor: Doctor) -> None:
    assert doctor.check("secret.kms")["status"] == "pass"
    with account() as s:
        key = "arn:aws:kms:af-south-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        s.client("secretsmanager").update_secret(
            SecretId="ecr-pullthroughcache/gitlab", KmsKeyId=key
        )
    r = doctor.check("secret.kms")
    assert r["status"] == "fail" and f"gitlab is encrypted with {key}" in r["finding"]
    assert r["fix"]["commands"] == [
        "aws secretsmanager update-secret --secret-id ecr-pullthroughcache/gitlab "
        "--kms-key-id alias/aws/secretsmanager --region af-south-1"
    ]
    doctor.fix(r)
    assert doctor.check("secret.kms")["status"] == "pass"


def test_rule_matches_finds_a_rule_holding_a_re_created_secrets_old_arn(doctor: Doctor) -> None:
    # A secret deleted and re-created under its name gets a new ARN suffix (Secrets Manager
    # user guide); the rule keeps the old full ARN, so ECR cannot read the secret.
    assert doctor.check("rule.matches")["status"] == "pass"
    with account() as s:
        sm = s.client("secretsmanager")
        sm.delete_secret(SecretId="ecr-pullthroughcache/gitlab", ForceDeleteWithoutRecovery=True)
        sm.create_secret(Name="ecr-pullthroughcache/gitlab", SecretString=GOOD)
    r = doctor.check("rule.matches")
    assert r["status"] == "fail"
    assert any("ecr-pullthroughcache/gitlab was re-created" in d for d in r["details"])
    _yes(r)
    doctor.fix(r)
    assert doctor.check("rule.matches")["status"] == "pass"
