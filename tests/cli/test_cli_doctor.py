"""doctor through the CLI: the README's quick start, the JSON contract, selection, exit codes,
and that a failing check never hides the others."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from doctor_support import EXAMPLE, REGISTRY, Doctor, account

from ecrcache.cli.app import run
from ecrcache.doctor.checks import CHECKS

CONTEXT_KEYS = {
    "region",
    "region_source",
    "profile",
    "profile_source",
    "credential_source",
    "account_id",
    "caller_arn",
    "registry_url",
    "endpoint_url",
    "config_path",
    "sandbox",
}
CHECK_KEYS = {"id", "title", "severity", "status", "finding", "why", "fix", "details"}
FIX_KEYS = {"summary", "commands", "config"}
SUMMARY_KEYS = {"pass", "fail", "warn", "skip", "crashed"}
STATUSES = SUMMARY_KEYS
# What the quick start cannot make pass in the sandbox, and why (said in the finding).
EXPLAINED = {
    "docker.login": ("warn", "no login for"),  # nobody ran `ecrcache login` yet
    "docker.mirror": ("skip", "on this machine"),
    "containerd.mirror": ("skip", "on this machine"),
    "net.registry": ("skip", "sandbox's registry is simulated"),
    "secret.sync-failures": ("skip", "no [monitoring] log group"),  # the example has none
    "hub.first-pull": ("skip", "not a spoke"),
}
if shutil.which("docker") is None:  # a machine with no docker CLI (CI images may lack it)
    EXPLAINED["docker.cli"] = ("warn", "docker is not on PATH")


@pytest.fixture
def doctor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Doctor:
    return Doctor(tmp_path, capsys, EXAMPLE.read_text())


@pytest.fixture(autouse=True)
def _docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))


def test_quick_start_passes_or_explains(doctor: Doctor) -> None:
    doctor.apply()
    code, data = doctor.run()
    results = {r["id"]: r for r in data["checks"]}
    assert code == 0 and data["healthy"] is True
    assert set(results) == {c.id for c in CHECKS if not c.id.startswith("image.")}
    for check_id, r in results.items():
        if check_id in EXPLAINED:
            want, said = EXPLAINED[check_id]
            assert r["status"] == want and said in r["finding"], r
        else:
            assert r["status"] == "pass", r
    # the sandbox cannot reach an upstream, and says so where it matters
    assert any("no upstream" in d for d in results["rule.validate"]["details"])
    assert data["context"]["account_id"] == "123456789012"
    assert data["context"]["registry_url"] == f"https://{REGISTRY}"


def test_quick_start_text_output(doctor: Doctor, capsys: pytest.CaptureFixture[str]) -> None:
    doctor.apply()
    assert doctor.cli("doctor", "--root", str(doctor.root)) == 0
    out = capsys.readouterr().out
    assert "account" in out and "123456789012" in out and "credentials" in out
    assert " PASS  rule.present" in out and " SKIP  net.registry" in out
    assert "fix:" in out and "ecrcache --sandbox -c" in out  # docker.login's fix
    assert "healthy" in out


def test_json_contract(doctor: Doctor) -> None:
    doctor.apply()
    _, data = doctor.run()
    assert set(data) == {"context", "checks", "summary", "healthy"}
    assert set(data["context"]) == CONTEXT_KEYS
    assert set(data["summary"]) == SUMMARY_KEYS
    assert sum(data["summary"].values()) == len(data["checks"])
    for r in data["checks"]:
        assert set(r) == CHECK_KEYS
        assert r["status"] in STATUSES and r["severity"] in ("error", "warning")
        assert (r["fix"] is None) == (r["status"] in ("pass", "skip")) or r["status"] == "warn"
        if r["fix"] is not None:
            assert set(r["fix"]) == FIX_KEYS
    login = next(r for r in data["checks"] if r["id"] == "docker.login")
    assert login["fix"]["commands"] == [f"ecrcache --sandbox -c {doctor.config} login"]


def test_list_checks(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["doctor", "--list-checks", "-o", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)["data"]["checks"]
    assert [c["id"] for c in listed] == [c.id for c in CHECKS]
    assert all(set(c) == {"id", "title", "severity", "needs", "why"} for c in listed)
    assert run(["doctor", "--list-checks"]) == 0
    text = capsys.readouterr().out
    assert all(c.id in text for c in CHECKS)


def test_check_selects_one_and_categories(doctor: Doctor) -> None:
    doctor.apply()
    _, data = doctor.run("--check", "rule.present")
    assert [r["id"] for r in data["checks"]] == ["rule.present"]
    _, data = doctor.run("--check", "secret")
    assert [r["id"] for r in data["checks"]] == [
        "secret.exists",
        "secret.location",
        "secret.keys",
        "secret.kms",
        "secret.sync-failures",
    ]


def test_unknown_check_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["doctor", "--check", "rule.presnt"]) == 2
    assert "did you mean 'rule.present'" in capsys.readouterr().err


def test_image_check_needs_image(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["doctor", "--check", "image.rule"]) == 2


def test_failure_exits_1_and_hides_nothing(doctor: Doctor) -> None:
    doctor.apply()
    with account() as s:
        s.client("ecr").delete_pull_through_cache_rule(ecrRepositoryPrefix="quay")
    code, data = doctor.run()
    results = {r["id"]: r for r in data["checks"]}
    assert code == 1 and data["healthy"] is False
    assert results["rule.present"]["status"] == "fail"
    # every other check still ran and reported
    assert set(results) == {c.id for c in CHECKS if not c.id.startswith("image.")}
    assert results["secret.keys"]["status"] == "pass"
    assert results["net.registry"]["status"] == "skip"


def test_network_checks_run_last(doctor: Doctor) -> None:
    doctor.apply()
    _, data = doctor.run()
    ids = [r["id"] for r in data["checks"]]
    network = {c.id for c in CHECKS if c.network}
    assert network and set(ids[-len(network) :]) == network


def test_no_credentials_fails_identity_but_machine_checks_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    config = tmp_path / "c.toml"
    config.write_text(EXAMPLE.read_text())
    code = run(["-c", str(config), "doctor", "--root", str(tmp_path), "-o", "json"])
    data = json.loads(capsys.readouterr().out)["data"]
    results = {r["id"]: r for r in data["checks"]}
    assert code == 1
    ident = results["creds.identity"]
    assert ident["status"] == "fail" and "no AWS credentials" in ident["finding"]
    assert ident["fix"]["commands"] == ["aws configure"]
    assert data["context"]["credential_source"] == "none found"
    assert results["rule.present"]["status"] == "skip"
    assert "creds.identity" in results["rule.present"]["finding"]
    assert results["config.valid"]["status"] == "pass"
    assert results["docker.mirror"]["status"] == "skip"  # machine checks still ran


def test_no_secret_value_in_any_output(
    doctor: Doctor, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "dckr_pat_DOCTOR_MUST_NEVER_PRINT_THIS"
    monkeypatch.setenv("DOCKERHUB_TOKEN", token)
    monkeypatch.setenv("GHCR_TOKEN", token + "_gh")
    doctor.apply()
    with account() as s:  # a wrong shape, so that secret.keys describes the value
        s.client("secretsmanager").put_secret_value(
            SecretId="ecr-pullthroughcache/github", SecretString=json.dumps({"user": token})
        )
    _, data = doctor.run()
    assert doctor.cli("doctor", "--root", str(doctor.root)) == 1
    text = capsys.readouterr()
    for blob in (json.dumps(data), text.out, text.err):
        assert token not in blob and "_gh" not in blob
    keys = next(r for r in data["checks"] if r["id"] == "secret.keys")
    assert keys["status"] == "fail" and "(has user)" in keys["details"][0]


def test_invalid_config_fails_config_valid_and_skips_what_needs_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = Doctor(
        tmp_path,
        capsys,
        'version = 1\nregion = "af-south-1"\n[rules.hub]\nupstream = "docker-hub"\n',
    )
    code, data = d.run()
    results = {r["id"]: r for r in data["checks"]}
    assert code == 1
    cv = results["config.valid"]
    assert cv["status"] == "fail" and "needs credentials" in cv["finding"]
    assert cv["fix"]["commands"] == [f"ecrcache --sandbox -c {d.config} validate"]
    assert results["rule.present"]["status"] == "skip"
    assert results["creds.identity"]["status"] == "pass"  # region from the environment
    assert results["template.coverage"]["status"] == "skip"  # no rules in a config-less run


def test_docker_login_fix_is_ecrcache_login(
    doctor: Doctor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doctor.apply()
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no docker: login writes the file
    r = doctor.check("docker.login")
    assert r["status"] == "warn"
    doctor.fix(r)
    ok = doctor.check("docker.login")
    assert ok["status"] == "pass" and REGISTRY in ok["finding"]
    assert (tmp_path / "docker" / "config.json").exists()


def test_envelope_when_checks_fail(doctor: Doctor, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert doctor.cli("doctor", "--root", str(doctor.root), "-o", "json") == 1  # nothing applied
    d = json.loads(capsys.readouterr().out)
    assert set(d) == {"schema", "command", "ok", "data", "warnings", "error"}
    # the command ran: the envelope is ok; the data says the cache is not healthy
    assert d["command"] == "doctor" and d["ok"] is True and d["error"] is None
    assert d["data"]["healthy"] is False and d["data"]["summary"]["fail"] > 0
