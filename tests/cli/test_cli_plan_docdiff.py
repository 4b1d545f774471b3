"""`plan` on the sandbox shows a changed policy as a nested diff; `-o json plan` keeps both
full documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import cli

# the CI policy lists each rule's cache prefix (application repositories go by ecrcache's tag)
APPS = [f"team{i:02d}/quay" for i in range(40)]


def write(path: Path, prefixes: list[str]) -> None:
    rules = "".join(f'[rules."{p}"]\nupstream = "quay"\n' for p in prefixes)
    path.write_text('region = "af-south-1"\n[ci_policy]\n' + rules)


def test_plan_shows_what_changed_in_a_policy(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cfg = tmp_path / "c.toml"
    write(cfg, APPS)
    assert cli(capsys, "--sandbox", "apply", "-c", str(cfg), "--yes")[0] == 0
    write(cfg, [*APPS[:-1], "team99/quay"])

    code, out, _ = cli(capsys, "--sandbox", "--no-color", "plan", "-c", str(cfg))
    assert code == 0, out
    block = out[out.index("iam-policy.ecrcache-ci") :].split("\n\n")[0].splitlines()
    repo = "arn:aws:ecr:*:123456789012:repository/"
    # the rule team39/quay stays without --prune, and so does its prefix in the policy
    assert not any(ln.strip().startswith("- ") for ln in block)
    assert any(ln.strip() == f'+ "{repo}team99/quay/*"' for ln in block)
    assert any("# (40 unchanged elements hidden)" in ln for ln in block)
    assert len(block) < 25 and f"{repo}team00/quay/*" not in "\n".join(block)
    assert "\x1b[" not in out  # --no-color

    code, out, _ = cli(capsys, "--sandbox", "-o", "json", "plan", "-c", str(cfg))
    assert code == 0
    (change,) = [c for c in json.loads(out)["data"]["changes"] if c["kind"] == "iam-policy"]
    (field,) = change["fields"]
    resources = {st["Sid"]: st["Resource"] for st in field["after"]["Statement"]}[
        "EcrcacheCacheRepositories"
    ]
    assert len(resources) == 41 and f"{repo}team99/quay/*" in resources
    before = {st["Sid"]: st["Resource"] for st in field["before"]["Statement"]}
    assert f"{repo}team39/quay/*" in before["EcrcacheCacheRepositories"]
