"""doctor --image REF on the sandbox: rule match, library/, digest-only first pull."""

from __future__ import annotations

from pathlib import Path

import pytest
from doctor_support import EXAMPLE, REGISTRY, Doctor


@pytest.fixture
def doctor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Doctor:
    d = Doctor(tmp_path, capsys, EXAMPLE.read_text())
    d.apply()
    return d


def test_image_checks_run_only_with_image(doctor: Doctor) -> None:
    _, data = doctor.run("--image", "quay.io/prometheus/node-exporter:v1.8.0")
    results = {r["id"]: r for r in data["checks"]}
    assert results["image.rule"]["status"] == "pass"
    assert "docker-hub" not in results["image.rule"]["finding"]
    assert f"{REGISTRY}/quay/prometheus/node-exporter:v1.8.0" in results["image.rule"]["finding"]
    assert results["image.library"]["status"] == "skip"
    assert results["image.digest"]["status"] == "pass"


def test_image_rule_no_rule_for_the_upstream(doctor: Doctor) -> None:
    r = doctor.check("image.rule", "--image", "registry.gitlab.com/group/app:1.0")
    assert r["status"] == "fail" and "no pull-through cache rule" in r["finding"]
    assert r["fix"]["config"].startswith('[rules.gitlab]\nupstream = "gitlab-container-registry"')
    r["fix"]["commands"] = [c + " --yes" for c in r["fix"]["commands"]]
    doctor.fix(r, fill={"<username>": "bot", "<TOKEN_VARIABLE>": "GITLAB_TOKEN"})
    assert (
        doctor.check("image.rule", "--image", "registry.gitlab.com/group/app:1.0")["status"]
        == "pass"
    )


def test_image_rule_unsupported_registry(doctor: Doctor) -> None:
    r = doctor.check("image.rule", "--image", "gcr.io/distroless/static:nonroot")
    assert r["status"] == "fail" and r["fix"]["commands"] == []
    assert "no upstream for this registry" in r["fix"]["summary"]


def test_image_library(doctor: Doctor) -> None:
    bad = f"{REGISTRY}/docker-hub/nginx:1.27"
    r = doctor.check("image.library", "--image", bad)
    assert r["status"] == "fail" and "without library/" in r["finding"]
    good = f"{REGISTRY}/docker-hub/library/nginx:1.27"
    assert r["fix"]["summary"] == f"reference it as {good}"
    assert doctor.check("image.library", "--image", good)["status"] == "pass"
    assert doctor.check("image.library", "--image", "nginx:1.27")["status"] == "pass"


def test_image_rule_configured_but_not_applied(doctor: Doctor) -> None:
    doctor.config.write_text(
        doctor.config.read_text() + '\n[rules.gallery]\nupstream = "ecr-public"\n'
    )
    r = doctor.check("image.rule", "--image", f"{REGISTRY}/gallery/nginx/nginx:1")
    assert r["status"] == "fail" and "not in the registry" in r["finding"]
    r["fix"]["commands"] = [c + " --yes" for c in r["fix"]["commands"]]
    doctor.fix(r)
    assert (
        doctor.check("image.rule", "--image", f"{REGISTRY}/gallery/nginx/nginx:1")["status"]
        == "pass"
    )


def _tag_digest(doctor: Doctor, monkeypatch: pytest.MonkeyPatch, tag_ref: str) -> str:
    """The digest the sandbox gives ``tag_ref`` when pulled, found in a scratch sandbox."""
    from doctor_support import account

    with monkeypatch.context() as m:
        m.setenv("ECRCACHE_SANDBOX_STATE", str(doctor.tmp / "scratch" / "s.state"))
        doctor.apply()
        assert doctor.cli("test-pull", tag_ref) == 0
        with account() as s:
            (image,) = s.client("ecr").describe_images(
                repositoryName="docker-hub/library/nginx", imageIds=[{"imageTag": "1.27"}]
            )["imageDetails"]
    doctor.capsys.readouterr()
    return str(image["imageDigest"])


def test_image_digest_first_pull(doctor: Doctor, monkeypatch: pytest.MonkeyPatch) -> None:
    ref = f"nginx:1.27@{_tag_digest(doctor, monkeypatch, 'nginx:1.27')}"
    r = doctor.check("image.digest", "--image", ref)
    assert r["status"] == "warn" and "a pull by digest will fail" in r["finding"]
    assert r["fix"]["commands"] == [
        f"ecrcache --sandbox -c {doctor.config} test-pull docker.io/library/nginx:1.27"
    ]
    doctor.fix(r)  # a simulated pull by tag
    assert doctor.check("image.digest", "--image", ref)["status"] == "pass"
