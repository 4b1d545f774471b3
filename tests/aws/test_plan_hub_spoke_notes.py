"""What a hub's and a spoke's plan say besides their changes, against moto with ecrcache's
extension: the hub names whom it lets pull; a spoke whose account still holds rules and templates
of its own says they are its own (its [rules] name the hub's), and its note on rules left in
place names no registry policy (a spoke has none); the same notes are the JSON's warnings."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from reconcile_support import REGION, apply, clients, config, cred, plan

from ecrcache.cli.app import run as run_cli

HUB, SPOKE = "111111111111", "333333333333"
ORG = "o-a1b2c3d4e5"
RULES = {
    "docker-hub": {"upstream": "docker-hub", "credentials": cred("docker-hub")},
    "quay": {"upstream": "quay"},
}
SPOKE_TABLE = {"hub_account_id": HUB}


def test_a_hubs_plan_names_whom_it_lets_pull(aws: boto3.session.Session) -> None:
    cfg = config(
        RULES,
        templates={"ROOT": {}, "quay": {"applied_for": ["CREATE_ON_PUSH"]}},
        hub={"spoke_accounts": [SPOKE], "organization_id": ORG},
    )
    notes = plan(cfg, clients(aws)).notes
    assert (
        f"hub for account {SPOKE} and the organization {ORG}: the registry policy lets them "
        "make first pulls under docker-hub, quay; the creation template(s) ROOT give the "
        "repositories a first pull creates a policy that lets them pull (repositories cached "
        "earlier keep theirs)"
    ) in notes


def test_a_spokes_own_rules_are_named_its_own(aws: boto3.session.Session) -> None:
    # the account was a cache of its own before it became a spoke
    apply(config(RULES, templates={"ROOT": {}}), clients(aws))
    cfg = config(RULES, spoke=SPOKE_TABLE, ci_policy={})
    notes = plan(cfg, clients(aws)).notes
    assert (
        "rule.docker-hub, rule.quay, template.ROOT: this account's own, not the hub's: a "
        "spoke's [rules] and [templates] describe the hub's, so these count as not in the "
        "configuration here (pulls go through the hub)"
    ) in notes
    kept = next(n for n in notes if "left in place" in n)
    assert "registry policy" not in kept  # a spoke manages none
    assert kept.endswith("so the CI policy keeps granting on their prefixes")


def test_a_plain_configs_plan_has_no_hub_note(aws: boto3.session.Session) -> None:
    apply(config(RULES, templates={"ROOT": {}}), clients(aws))
    notes = plan(config({"quay": RULES["quay"]}), clients(aws)).notes
    assert not any("hub for" in n or "the hub" in n for n in notes), notes


def test_the_notes_are_the_json_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ecrcache.toml"
    path.write_text(
        f'region = "{REGION}"\n[rules.quay]\nupstream = "quay"\n[templates.ROOT]\n'
        f'[hub]\nspoke_accounts = ["{SPOKE}"]\n'
    )
    code = run_cli(["--sandbox", "-c", str(path), "-o", "json", "plan"])
    out, err = capsys.readouterr()
    assert code == 0, err
    warnings = json.loads(out)["warnings"]
    assert any(w.startswith(f"hub for account {SPOKE}: ") for w in warnings), warnings
    code = run_cli(["--sandbox", "-c", str(path), "plan"])
    _, err = capsys.readouterr()
    assert f"hub for account {SPOKE}: the registry policy lets them make first pulls" in err
