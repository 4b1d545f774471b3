"""The Docker config file and Kubernetes pull secrets (dockerconfig.py)."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
import yaml

from ecrcache.errors import UsageError
from ecrcache.registry.dockerconfig import (
    DockerConfigError,
    RegistryAuth,
    dockerconfigjson,
    k8s_secret_yaml,
    merge_auths,
    shadowing_warnings,
    update_docker_config,
)

HOST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
LOGIN = RegistryAuth(HOST, "AWS", "pa55-word")
AUTH = base64.b64encode(b"AWS:pa55-word").decode()

EXISTING = {
    "auths": {
        "ghcr.io": {"auth": "Z2g6eHl6"},
        f"https://{HOST}": {"auth": "b2xkOm9sZA=="},  # older spelling of the same host
    },
    "proxies": {"default": {"httpProxy": "http://proxy:3128"}},
    "HttpHeaders": {"User-Agent": "x"},
    "currentContext": "desktop-linux",
}


def test_merge_keeps_other_entries_and_drops_other_spellings_of_the_host() -> None:
    out = merge_auths(EXISTING, (LOGIN,))
    assert out["auths"] == {"ghcr.io": {"auth": "Z2g6eHl6"}, HOST: {"auth": AUTH}}
    assert {k: v for k, v in out.items() if k != "auths"} == {
        k: v for k, v in EXISTING.items() if k != "auths"
    }
    assert EXISTING["auths"][f"https://{HOST}"] == {"auth": "b2xkOm9sZA=="}  # input untouched


def test_update_writes_0600_atomically_and_keeps_entries(tmp_path: Path) -> None:
    path = tmp_path / "docker" / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps(EXISTING))
    path.chmod(0o644)

    written, warnings = update_docker_config((LOGIN,), path=path)

    assert written == path.resolve()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    doc = json.loads(path.read_text())
    assert doc["auths"][HOST] == {"auth": AUTH}
    assert doc["auths"]["ghcr.io"] == {"auth": "Z2g6eHl6"}
    assert doc["proxies"] == EXISTING["proxies"]
    assert warnings == ()
    assert [p.name for p in path.parent.iterdir()] == ["config.json"]  # no temp file left


def test_update_creates_the_file_and_follows_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "docker.json"
    real.parent.mkdir()
    real.write_text("{}")
    link = tmp_path / "config.json"
    link.symlink_to(real)
    update_docker_config((LOGIN,), path=link)
    assert link.is_symlink()
    assert json.loads(real.read_text())["auths"][HOST]["auth"] == AUTH

    fresh = tmp_path / "new" / "config.json"
    update_docker_config((LOGIN,), path=fresh)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600


def test_invalid_json_is_an_error_and_the_file_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("{not json")
    with pytest.raises(DockerConfigError) as err:
        update_docker_config((LOGIN,), path=path)
    assert "not valid JSON" in err.value.message
    assert path.read_text() == "{not json"


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({}, []),
        ({"credsStore": "desktop"}, ["credsStore is 'desktop'"]),
        ({"credHelpers": {HOST: "ecr-login"}}, ["docker-credential-ecr-login"]),
        ({"credHelpers": {"other.example": "gcr"}}, []),
        (
            {"credsStore": "osxkeychain", "credHelpers": {HOST: "ecr-login"}},
            ["docker-credential-ecr-login"],  # the helper wins over the store for its host
        ),
    ],
)
def test_shadowing_warnings(doc: dict[str, object], expected: list[str]) -> None:
    warnings = shadowing_warnings(doc, (HOST,))
    assert len(warnings) == len(expected)
    for warning, fragment in zip(warnings, expected, strict=True):
        assert fragment in warning


def test_k8s_secret_decodes_to_a_valid_dockerconfigjson() -> None:
    other = RegistryAuth("210987654321.dkr.ecr.us-east-1.amazonaws.com", "AWS", "pa55-word")
    text = k8s_secret_yaml("ecr-pull", (LOGIN, other), namespace="apps")
    doc = yaml.safe_load(text)
    assert doc["apiVersion"] == "v1" and doc["kind"] == "Secret"
    assert doc["type"] == "kubernetes.io/dockerconfigjson"
    assert doc["metadata"]["name"] == "ecr-pull" and doc["metadata"]["namespace"] == "apps"
    inner = json.loads(base64.b64decode(doc["data"][".dockerconfigjson"], validate=True))
    assert set(inner["auths"]) == {HOST, other.host}
    for entry in inner["auths"].values():
        assert base64.b64decode(entry["auth"]) == b"AWS:pa55-word"
        assert (entry["username"], entry["password"]) == ("AWS", "pa55-word")
    assert "pa55-word" not in text  # only inside the base64


def test_dockerconfigjson_is_stable() -> None:
    assert dockerconfigjson((LOGIN,)) == dockerconfigjson((LOGIN,))


@pytest.mark.parametrize("name", ["Bad_Name", "-x", "x" * 254, "a\nb: c", ""])
def test_k8s_secret_rejects_invalid_names(name: str) -> None:
    with pytest.raises(UsageError):
        k8s_secret_yaml(name, (LOGIN,))


def test_k8s_secret_rejects_invalid_namespace() -> None:
    with pytest.raises(UsageError):
        k8s_secret_yaml("ok", (LOGIN,), namespace="a.b")
