"""``ecrcache import`` end to end on the sandbox: apply the example, import it, validate the
file, plan it empty; --out refuses to overwrite, JSON carries the document, region errors."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from cli_support import cli

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"


@pytest.fixture
def applied(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "--sandbox", "apply", "-c", str(EXAMPLE), "--yes")
    assert code == 0, err


@pytest.mark.usefixtures("applied")
def test_import_out_validates_and_plans_empty(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "imported.toml"
    code, out, err = cli(capsys, "--sandbox", "import", "--out", str(target))
    assert code == 0, err
    assert (
        f"Wrote {target}: 5 rules, 2 templates, 1 repository, scanning, pullers, ci_policy." in out
    )
    text = target.read_text()
    assert text.startswith("# Written by `ecrcache import` from account 123456789012")
    # both example secrets are ecrcache's: the user is told to add token sources
    assert "ecr-pullthroughcache/docker-hub is managed by ecrcache" in err
    code, out, err = cli(capsys, "validate", "-c", str(target))
    assert code == 0, err
    assert "5 rules" in out
    code, out, err = cli(capsys, "--sandbox", "plan", "-c", str(target), "--detailed-exitcode")
    assert code == 0, out + err
    assert "No changes." in out
    doc = tomllib.loads(text)
    example = tomllib.loads(EXAMPLE.read_text())
    assert doc["templates"]["ROOT"]["lifecycle"] == example["templates"]["ROOT"]["lifecycle"]
    assert doc["repositories"]["acme/api"]["tags"] == {"team": "platform"}
    assert doc["pullers"] == example["pullers"]
    assert doc["scanning"] == example["scanning"]
    assert doc["ci_policy"] == {"name": "ecrcache-ci"}


@pytest.mark.usefixtures("applied")
def test_import_to_stdout_is_the_toml(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "--sandbox", "import")
    assert code == 0, err
    doc = tomllib.loads(out)
    assert set(doc["rules"]) == {"docker-hub", "quay", "github", "k8s", "ecr-public"}
    assert "Warning:" in err and "Warning:" not in out


@pytest.mark.usefixtures("applied")
def test_out_refuses_to_overwrite_without_force(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "c.toml"
    target.write_text("# mine\n")
    code, _, err = cli(capsys, "--sandbox", "import", "--out", str(target))
    assert code == 2
    assert "exists" in err and "--force" in err
    assert target.read_text() == "# mine\n"
    code, _, err = cli(capsys, "--sandbox", "import", "--out", str(target), "--force")
    assert code == 0, err
    assert "[rules.quay]" in target.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml", "sandbox-state"]


@pytest.mark.usefixtures("applied")
def test_json_envelope_holds_the_document(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "--sandbox", "import", "-o", "json")
    assert code == 0
    env = json.loads(out)
    assert env["command"] == "import" and env["ok"] is True
    data = env["data"]
    assert data["account_id"] == "123456789012" and data["path"] is None
    assert data["document"]["rules"]["quay"] == {"upstream": "quay"}
    assert any("managed by ecrcache" in w for w in env["warnings"])


def test_no_secret_value_is_read(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The calls import makes, counted through Clients.calls: reads only, no secret value."""
    from collections.abc import Iterator
    from contextlib import contextmanager

    import ecrcache.cli.importer as command
    from ecrcache.aws import Clients

    assert cli(capsys, "--sandbox", "apply", "-c", str(EXAMPLE), "--yes")[0] == 0
    opened: list[Clients] = []
    real = command.open_clients

    @contextmanager
    def recording(opts: object, region: str) -> Iterator[Clients]:
        with real(opts, region) as clients:  # type: ignore[arg-type]
            opened.append(clients)
            yield clients

    monkeypatch.setattr(command, "open_clients", recording)
    assert cli(capsys, "--sandbox", "import")[0] == 0
    (clients,) = opened
    assert "ecr.DescribePullThroughCacheRules" in clients.calls
    assert "iam.GetPolicy" in clients.calls
    assert "secretsmanager.GetSecretValue" not in clients.calls
    assert clients.mutating_calls == []


def test_region_is_required(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    code, _, err = cli(capsys, "--sandbox", "import")
    assert code == 2
    assert "no region" in err and "--region" in err


def test_region_option_wins(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "--sandbox", "--region", "eu-west-1", "import")
    assert code == 0, err
    assert tomllib.loads(out)["region"] == "eu-west-1"
