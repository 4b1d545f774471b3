"""``ecrcache sandbox serve`` takes requests concurrently: many clients' writes all land, and
the state file (saved before each change is answered) reloads with every one of them."""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import botocore.config

from ecrcache.sandbox import statefile
from ecrcache.sandbox.runtime import SANDBOX_ACCOUNT_ID
from serve_support import ServedSandbox

REGION = "af-south-1"
CLIENTS, EACH = 16, 6  # apply's pool size (reconcile/bounded.py), a few writes each


def _client(served: ServedSandbox) -> Any:
    """No retries: every success is one acknowledged call."""
    return boto3.client(
        "ecr",
        region_name=REGION,
        endpoint_url=served.endpoint,
        config=botocore.config.Config(
            retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30
        ),
    )


def test_concurrent_clients_creating_repositories_all_land_and_reload(
    sandbox_server: ServedSandbox,
) -> None:
    served = sandbox_server

    def one_client(i: int) -> list[str]:
        ecr = _client(served)
        names = [f"team-{i:02d}/repo-{j}" for j in range(EACH)]
        for name in names:
            ecr.create_repository(repositoryName=name)
            saved = statefile.read(served.state_path)  # answered, so already in the file
            assert saved is not None
            assert name in saved["ecr"][SANDBOX_ACCOUNT_ID][REGION].repositories
        return names

    with ThreadPoolExecutor(CLIENTS) as pool:
        made = sorted(n for names in pool.map(one_client, range(CLIENTS)) for n in names)
    assert len(made) == CLIENTS * EACH
    pages = _client(served).get_paginator("describe_repositories")
    listed = sorted(r["repositoryName"] for p in pages.paginate() for r in p["repositories"])
    assert listed == made
    assert served.stop(signal.SIGINT) == 0
    saved = statefile.read(served.state_path)
    assert saved is not None
    assert sorted(saved["ecr"][SANDBOX_ACCOUNT_ID][REGION].repositories) == made
    assert served.log().count("ecr.CreateRepository 200") == len(made)
