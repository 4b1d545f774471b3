"""What botocore does with a dead endpoint, which ecrcache's clients change (endpointwait.py).

Source: the boto3 guide "Retries" (standard and adaptive modes retry transient errors, which
include connection errors, up to max_attempts) and botocore/retries/standard.py
(``TransientRetryableChecker`` lists ``ConnectionError``; ``MaxAttemptsChecker`` compares the
attempt number with the total; botocore/config.py turns ``max_attempts``, the retries after
the first call, into ``total_max_attempts`` = max_attempts + 1).
"""

from __future__ import annotations

import socket

import boto3
import botocore.config
import botocore.exceptions
import pytest

from ecrcache.aws import Clients


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_plain_botocore_spends_every_attempt_on_a_refused_connection() -> None:
    """Source: boto3 "Retries" guide; botocore/retries/standard.py. max_attempts=2 in the
    standard mode is three calls against a port nobody listens on; ecrcache's clients, whose
    max_attempts is 10 for throttling, make two."""
    url = f"http://127.0.0.1:{closed_port()}"
    plain = boto3.session.Session(region_name="af-south-1").client(
        "sts",
        endpoint_url=url,
        config=botocore.config.Config(retries={"mode": "standard", "max_attempts": 2}),
    )
    ours = Clients(boto3.session.Session(region_name="af-south-1"), "af-south-1", url).sts
    counts = []
    for client in (plain, ours):
        sends: list[object] = []
        client.meta.events.register("before-send.*.*", lambda sends=sends, **kw: sends.append(kw))
        with pytest.raises(botocore.exceptions.EndpointConnectionError):
            client.get_caller_identity()
        counts.append(len(sends))
    assert counts == [3, 2]
