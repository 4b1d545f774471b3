"""config, credentials, region, rule checks: each made to fail on the sandbox, then fixed by
applying the fix doctor printed, exactly as printed, and then passing."""

from __future__ import annotations

from pathlib import Path

import pytest
from doctor_support import EXAMPLE, Doctor, account, example_without

from ecrcache.sandbox.runtime import SANDBOX_ACCOUNT_ID

OTHER_ECR = "111122223333.dkr.ecr.eu-west-1.amazonaws.com"


@pytest.fixture
def doctor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Doctor:
    d = Doctor(tmp_path, capsys, EXAMPLE.read_text())
    d.apply()
    return d


def test_config_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = Doctor(tmp_path, capsys, EXAMPLE.read_text().replace("af-south-1", "Africa"))
    r = d.check("config.valid")
    assert r["status"] == "fail" and "not an AWS region name" in r["finding"]
    assert 'region = "af-south-1"' in r["fix"]["summary"]  # the hint: what to write
    d.config.write_text(d.config.read_text().replace("Africa", "af-south-1"))  # as hinted
    d.fix(r)  # then `ecrcache validate`, which must now succeed
    assert d.check("config.valid")["status"] == "pass"


def test_creds_identity_wrong_account(doctor: Doctor) -> None:
    assert doctor.check("creds.identity")["status"] == "pass"
    text = doctor.config.read_text().replace(
        '# account_id = "123456789012"', 'account_id = "111122223333"'
    )
    doctor.config.write_text(text)
    r = doctor.check("creds.identity")
    assert r["status"] == "fail" and "config is for 111122223333" in r["finding"]
    assert r["fix"]["config"] == f'account_id = "{SANDBOX_ACCOUNT_ID}"'
    doctor.fix(r)
    assert doctor.check("creds.identity")["status"] == "pass"


def test_ecr_available_unknown_region(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = Doctor(tmp_path, capsys, EXAMPLE.read_text().replace("af-south-1", "af-south-9"))
    r = d.check("ecr.available")
    assert r["status"] == "fail" and "no endpoint in 'af-south-9'" in r["finding"]
    assert r["fix"]["config"] == 'region = "af-south-1"'
    d.fix(r)
    assert d.check("ecr.available")["status"] == "pass"


def test_rule_quota(doctor: Doctor) -> None:
    assert doctor.check("rule.quota")["status"] == "pass"
    with account() as s:
        ecr = s.client("ecr")
        for i in range(40):  # 45 with the config's five: close to the limit
            ecr.create_pull_through_cache_rule(
                ecrRepositoryPrefix=f"quay-{i:02d}", upstreamRegistryUrl="quay.io"
            )
    near = doctor.check("rule.quota")
    assert near["status"] == "warn" and "45 after apply" in near["finding"]
    doctor.config.write_text(
        doctor.config.read_text()
        + "".join(f'\n[rules.extra-{i}]\nupstream = "quay"\n' for i in range(6))
    )
    r = doctor.check("rule.quota")
    assert r["status"] == "fail" and "51 rules after apply" in r["finding"]
    assert len(r["fix"]["commands"]) == 41  # a delete per rule not in the config, then apply
    assert r["fix"]["commands"][0].startswith("aws ecr delete-pull-through-cache-rule")
    _yes(r)
    doctor.fix(r)
    assert doctor.check("rule.quota")["status"] == "pass"


def test_rule_present(doctor: Doctor) -> None:
    assert doctor.check("rule.present")["status"] == "pass"
    with account() as s:
        s.client("ecr").delete_pull_through_cache_rule(ecrRepositoryPrefix="quay")
    r = doctor.check("rule.present")
    assert r["status"] == "fail" and "missing: quay" in r["finding"]
    _yes(r)
    doctor.fix(r)
    assert doctor.check("rule.present")["status"] == "pass"


def _yes(result: dict) -> None:  # type: ignore[type-arg]
    """apply asks for confirmation on a terminal; the test answers it as --yes does."""
    result["fix"]["commands"] = [
        c + " --yes" if c.split()[-1] in ("apply", "--force") or "apply" in c.split() else c
        for c in result["fix"]["commands"]
    ]


def test_rule_matches_replace(doctor: Doctor) -> None:
    assert doctor.check("rule.matches")["status"] == "pass"
    with account() as s:
        ecr = s.client("ecr")
        ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix="k8s")
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="k8s", upstreamRegistryUrl="public.ecr.aws"
        )
    r = doctor.check("rule.matches")
    assert r["status"] == "fail" and "k8s: upstream 'ecr-public' → 'k8s'" in r["details"][0]
    assert r["fix"]["commands"][0].endswith("apply --force")
    _yes(r)
    doctor.fix(r)
    assert doctor.check("rule.matches")["status"] == "pass"


def test_rule_matches_update(doctor: Doctor) -> None:
    with account() as s:
        arn = s.client("secretsmanager").create_secret(
            Name="ecr-pullthroughcache/other", SecretString='{"username":"u","accessToken":"t"}'
        )["ARN"]
        s.client("ecr").update_pull_through_cache_rule(
            ecrRepositoryPrefix="github", credentialArn=arn
        )
    r = doctor.check("rule.matches")
    assert r["status"] == "fail" and "credential" in r["details"][0]
    assert r["fix"]["commands"][0].endswith(" apply")  # an update, no --force
    _yes(r)
    doctor.fix(r)
    assert doctor.check("rule.matches")["status"] == "pass"


def test_upstream_credentials_cross_account_ecr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # No account_id in the config, so validate cannot know the upstream is another account's.
    config = example_without("pullers", "ci_policy") + (
        f'\n[rules.prod-mirror]\nupstream = "ecr"\nurl = "{OTHER_ECR}"\n'
    )
    d = Doctor(tmp_path, capsys, config)
    d.apply()
    r = d.check("upstream.credentials")
    assert r["status"] == "fail" and "another account's ECR" in r["finding"]
    role = f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/ecr-ptc-upstream"
    assert r["fix"]["config"] == f'[rules.prod-mirror]\nrole_arn = "{role}"'
    _yes(r)
    d.fix(r)
    assert d.check("upstream.credentials")["status"] == "pass"


def test_rule_validate_bad_secret_fixed_by_apply(
    doctor: Doctor, monkeypatch: pytest.MonkeyPatch
) -> None:
    passing = doctor.check("rule.validate")
    assert passing["status"] == "pass"
    with account() as s:
        s.client("secretsmanager").put_secret_value(
            SecretId="ecr-pullthroughcache/docker-hub", SecretString='{"username":"acme-ci"}'
        )
    r = doctor.check("rule.validate")
    assert r["status"] == "fail"
    assert "docker-hub" in r["details"][0] and "accessToken" in r["details"][0]  # ECR's text
    assert r["fix"]["commands"] == [f"ecrcache --sandbox -c {doctor.config} apply"]
    _yes(r)
    monkeypatch.setenv("DOCKERHUB_TOKEN", "dckr_pat_" + "a" * 27)  # the token apply writes
    doctor.fix(r)
    assert doctor.check("rule.validate")["status"] == "pass"
