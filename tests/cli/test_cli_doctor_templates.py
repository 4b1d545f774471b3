"""Template checks on the sandbox: fail, apply the printed fix as printed, pass."""

from __future__ import annotations

from pathlib import Path

import pytest
from doctor_support import EXAMPLE, Doctor, account, example_without


def _yes(result: dict) -> None:  # type: ignore[type-arg]
    result["fix"]["commands"] = [
        c + " --yes" if c.split()[-1] == "apply" else c for c in result["fix"]["commands"]
    ]


def test_template_coverage_none_in_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = Doctor(tmp_path, capsys, example_without("templates"))
    d.apply()
    r = d.check("template.coverage")
    assert r["status"] == "warn" and r["severity"] == "warning"
    assert "no template for docker-hub, ecr-public, github, k8s, quay" in r["finding"]
    assert r["fix"]["config"].startswith("[templates.ROOT]\n")
    _yes(r)
    d.fix(r)
    assert d.check("template.coverage")["status"] == "pass"


def test_template_coverage_declared_but_deleted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = Doctor(tmp_path, capsys, EXAMPLE.read_text())
    d.apply()
    assert d.check("template.coverage")["status"] == "pass"
    with account() as s:
        s.client("ecr").delete_repository_creation_template(prefix="ROOT")
    r = d.check("template.coverage")
    assert r["status"] == "warn" and "no template for ecr-public, github, k8s, quay" in r["finding"]
    assert r["fix"]["config"] is None  # the config has it: apply is enough
    _yes(r)
    d.fix(r)
    assert d.check("template.coverage")["status"] == "pass"


def test_template_role_tags_without_role(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = EXAMPLE.read_text().replace(
        '[templates.docker-hub]\ndescription = "Docker Hub cache"\n',
        '[templates.docker-hub]\ndescription = "Docker Hub cache"\ntags = { team = "platform" }\n',
    )
    d = Doctor(tmp_path, capsys, config)
    d.apply()
    r = d.check("template.role")
    assert r["status"] == "fail" and "docker-hub: resource tags but no custom role" in r["finding"]
    role = "arn:aws:iam::123456789012:role/ecr-template-role"
    assert r["fix"]["config"] == f'[templates.docker-hub]\nrole_arn = "{role}"'
    assert r["fix"]["commands"][0].startswith("aws iam create-role --role-name ecr-template-role")
    assert '"Service":"ecr.amazonaws.com"' in r["fix"]["commands"][0]
    _yes(r)
    d.fix(r)
    assert d.check("template.role")["status"] == "pass"


def test_template_role_untrusted_role(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    role = "arn:aws:iam::123456789012:role/tagger"
    config = EXAMPLE.read_text().replace(
        '[templates.docker-hub]\ndescription = "Docker Hub cache"\n',
        '[templates.docker-hub]\ndescription = "Docker Hub cache"\ntags = { team = "p" }\n'
        f'role_arn = "{role}"\n',
    )
    d = Doctor(tmp_path, capsys, config)
    with account() as s:
        s.client("iam").create_role(
            RoleName="tagger",
            AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
            '"Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}',
        )
    d.apply()
    r = d.check("template.role")
    assert r["status"] == "fail" and "does not trust ecr.amazonaws.com" in r["finding"]
    assert r["fix"]["commands"][0].startswith("aws iam update-assume-role-policy")
    d.fix(r)
    assert d.check("template.role")["status"] == "pass"


def test_template_immutability(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = EXAMPLE.read_text().replace(
        '[templates.docker-hub]\ndescription = "Docker Hub cache"\n',
        '[templates.docker-hub]\ndescription = "Docker Hub cache"\ntag_mutability = "IMMUTABLE"\n',
    )
    d = Doctor(tmp_path, capsys, config)
    d.apply()
    with account() as s:  # a cached repository made immutable by hand
        s.client("ecr").create_repository(
            repositoryName="quay/prometheus/node-exporter", imageTagMutability="IMMUTABLE"
        )
    r = d.check("template.immutability")
    assert r["status"] == "warn"
    assert "immutable template(s): docker-hub" in r["finding"] and "1 immutable" in r["finding"]
    assert r["fix"]["config"] == '[templates.docker-hub]\ntag_mutability = "MUTABLE"'
    assert r["fix"]["commands"][-1] == (
        "aws ecr put-image-tag-mutability --repository-name quay/prometheus/node-exporter "
        "--image-tag-mutability MUTABLE --region af-south-1"
    )
    _yes(r)
    d.fix(r)
    assert d.check("template.immutability")["status"] == "pass"
