"""prune records each deletion in the run's ledger as it is made, so a Ctrl-C between two
batches reports what is gone (issue 15 item 4: Ctrl-C always prints what was done)."""

from __future__ import annotations

import signal
from datetime import datetime
from typing import Any

import boto3
import pytest
from cost_seed import REGION, seed

from ecrcache import aws as ecrcache_aws
from ecrcache import interrupts
from ecrcache.aws import Clients
from ecrcache.cost.inventory import read_inventory
from ecrcache.cost.prune import PrunePlan, plan_prune, run_prune


def plan_for(clients: Clients, now: datetime) -> PrunePlan:
    inv = read_inventory(clients)
    return plan_prune(
        inv.repositories,
        prefixes=[r.prefix for r in inv.rules],
        applications=(),
        now=now,
        older_than_days=90,
    )


def test_each_deletion_is_in_the_ledger(aws: boto3.session.Session) -> None:
    now = seed(aws)
    clients = Clients(aws, REGION)
    plan = plan_for(clients, now)
    restore = interrupts.install()
    try:
        run_prune(plan, clients)
        assert interrupts.applied() == (
            "deleted 1 image in ecr-public/library/nginx",
            "deleted 1 image in quay/prometheus/prometheus",
            "deleted 2 images in quay/prometheus/prometheus",
        )
    finally:
        restore()


def test_a_ctrl_c_between_batches_leaves_what_was_deleted_in_the_ledger(
    aws: boto3.session.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = seed(aws)
    clients = Clients(aws, REGION)
    plan = plan_for(clients, now)
    batches: list[str] = []

    def observer(c: Any, service: str, op: str, params: dict[str, Any]) -> None:
        if op == "BatchDeleteImage":
            batches.append(params["repositoryName"])
            if len(batches) == 2:
                signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(ecrcache_aws, "CALL_OBSERVERS", [*ecrcache_aws.CALL_OBSERVERS, observer])
    restore = interrupts.install()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_prune(plan, clients)
        assert interrupts.applied() == ("deleted 1 image in ecr-public/library/nginx",)
    finally:
        restore()
