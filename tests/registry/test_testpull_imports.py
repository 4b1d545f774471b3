"""What a test-pull process loads: its start-up is most of what a small image's pull costs
(benchmarks/bench_pull_vs_skopeo.py), so libraries it does not use stay unloaded. Run in a fresh
interpreter, against a real registry, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from regsupport import make_multiarch, push_multiarch, run_registry

pytestmark = pytest.mark.registry

SRC = Path(__file__).resolve().parents[2] / "src"
PROBE = """
import json, sys
from ecrcache.cli.app import run
code = run(sys.argv[1:])
print(json.dumps({"code": code, "loaded": sorted(m for m in ("rich", "boto3", "botocore")
                                                    if m in sys.modules)}), file=sys.stderr)
"""


@pytest.mark.parametrize(
    ("output", "loaded"),
    [
        (["-o", "json"], []),  # no progress bar, no table: no rich; no AWS: no boto3
        ([], ["rich"]),  # the text table is rich's work
    ],
)
def test_test_pull_loads_only_what_it_uses(
    tmp_path: Path, output: list[str], loaded: list[str]
) -> None:
    with run_registry(tmp_path / "registry") as server:
        push_multiarch(
            server.client(), "bench/small", "v1", make_multiarch(["linux/amd64"], [1024])
        )
        assert server.credentials is not None
        env = {
            **os.environ,
            "PYTHONPATH": str(SRC),
            "ECRCACHE_REGISTRY_USERNAME": server.credentials.username,
            "ECRCACHE_REGISTRY_PASSWORD": server.credentials.password,
        }
        ref = f"{server.url.removeprefix('http://')}/bench/small:v1"
        proc = subprocess.run(
            [sys.executable, "-c", PROBE, *output, "test-pull", "--registry-url", server.url, ref],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    assert report == {"code": 0, "loaded": loaded}, proc.stderr
