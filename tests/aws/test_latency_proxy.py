"""benchmarks/latency_proxy.py, the delay the benchmarks put in front of the sandbox server:
what goes through it arrives intact, errors included, on kept-alive connections, and it counts
the calls it forwarded. (How long it holds each call is a benchmark's business, not a test's.)"""

from __future__ import annotations

import sys
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from latency_proxy import LatencyProxy

REGION = "af-south-1"


def test_the_proxy_forwards_answers_and_errors_and_counts_the_calls(
    aws: boto3.session.Session,
) -> None:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        _, port = server.get_host_and_port()
        with LatencyProxy(port, delay=0.0) as proxy:
            ecr = boto3.client(
                "ecr",
                region_name=REGION,
                endpoint_url=proxy.url,
                aws_access_key_id="x",
                aws_secret_access_key="x",
            )
            for i in range(3):
                ecr.create_repository(repositoryName=f"via/proxy{i}")
            names = [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]]
            with pytest.raises(ClientError) as exc:
                ecr.describe_images(repositoryName="via/none")
            forwarded = proxy.requests
    finally:
        server.stop()
    assert names == ["via/proxy0", "via/proxy1", "via/proxy2"]
    assert exc.value.response["Error"]["Code"] == "RepositoryNotFoundException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert forwarded == 5  # botocore retries no 400: one request per call
