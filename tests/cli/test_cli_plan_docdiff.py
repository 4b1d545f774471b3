"""`plan` on the sandbox shows a changed policy as a nested diff; `-o json plan` keeps both
full documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import cli

APPS = [f"team{i:02d}/service" for i in range(40)]


def write(path: Path, apps: list[str]) -> None:
    repos = "".join(f'[repositories."{name}"]\n' for name in apps)
    path.write_text('region = "af-south-1"\n[rules.quay]\nupstream = "quay"\n[ci_policy]\n' + repos)


def test_plan_shows_what_changed_in_a_policy(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cfg = tmp_path / "c.toml"
    write(cfg, APPS)
    assert cli(capsys, "--sandbox", "apply", "-c", str(cfg), "--yes")[0] == 0
    write(cfg, [*APPS[:-1], "team99/service"])

    code, out, _ = cli(capsys, "--sandbox", "--no-color", "plan", "-c", str(cfg))
    assert code == 0, out
    block = out[out.index("iam-policy.ecrcache-ci") :].split("\n\n")[0].splitlines()
    repo = "arn:aws:ecr:af-south-1:123456789012:repository/"
    assert any(ln.strip() == f'- "{repo}team39/service"' for ln in block)
    assert any(ln.strip() == f'+ "{repo}team99/service"' for ln in block)
    assert any("# (39 unchanged elements hidden)" in ln for ln in block)
    assert len(block) < 25 and f"{repo}team00/service" not in "\n".join(block)
    assert "\x1b[" not in out  # --no-color

    code, out, _ = cli(capsys, "--sandbox", "-o", "json", "plan", "-c", str(cfg))
    assert code == 0
    (change,) = [c for c in json.loads(out)["data"]["changes"] if c["kind"] == "iam-policy"]
    (field,) = change["fields"]
    resources = {st["Sid"]: st["Resource"] for st in field["after"]["Statement"]}[
        "EcrcacheAppRepositories"
    ]
    assert len(resources) == 40 and f"{repo}team99/service" in resources
    before = {st["Sid"]: st["Resource"] for st in field["before"]["Statement"]}
    assert f"{repo}team39/service" in before["EcrcacheAppRepositories"]
