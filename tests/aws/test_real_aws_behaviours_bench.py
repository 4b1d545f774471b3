"""Real-AWS behaviours moto lacks that the benchmarks depend on, each naming its source.

DescribeRepositories, DescribeImages and ListImages page, 100 items by default and up to 1000
(sandbox/describe_paging.py): a client that keeps the default page makes ten times the calls of
one that asks for 1000, which is what bench_cost_report's baseline and cost-report differ by.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ecrcache.sandbox.pulls import simulate_pull

REGION = "af-south-1"
ACCOUNT = "123456789012"


def count_calls(ecr: Any) -> list[str]:
    calls: list[str] = []
    ecr.meta.events.register("before-call.*.*", lambda model, **_: calls.append(model.name))
    return calls


@pytest.fixture
def ecr(aws: boto3.session.Session) -> Any:
    client = aws.client("ecr")
    for i in range(250):
        client.create_repository(repositoryName=f"team/app{i:03}")
    return client


def test_describe_repositories_pages_at_100_by_default(ecr: Any) -> None:
    # Source: botocore ECR model, DescribeRepositoriesRequest.maxResults: "If this parameter is
    # not used, then DescribeRepositories returns up to 100 results and a nextToken value".
    first = ecr.describe_repositories()
    assert len(first["repositories"]) == 100
    assert first["nextToken"]
    calls = count_calls(ecr)
    names = [
        r["repositoryName"]
        for page in ecr.get_paginator("describe_repositories").paginate()
        for r in page["repositories"]
    ]
    assert names == [f"team/app{i:03}" for i in range(250)]  # every one, once, in order
    assert calls == ["DescribeRepositories"] * 3


def test_describe_repositories_serves_up_to_1000_a_page(ecr: Any) -> None:
    # Source: the same member: "This value can be between 1 and 1000."
    calls = count_calls(ecr)
    pages = list(
        ecr.get_paginator("describe_repositories").paginate(PaginationConfig={"PageSize": 1000})
    )
    assert [len(p["repositories"]) for p in pages] == [250]
    assert "nextToken" not in pages[0]
    assert calls == ["DescribeRepositories"]
    with pytest.raises(ClientError) as exc:
        # botocore checks only the minimum client side (1); the maximum is the service's
        ecr.describe_repositories(maxResults=1001)
    assert exc.value.response["Error"]["Code"] == "InvalidParameterException"


def test_repositories_named_are_not_paged_and_refuse_a_page_size(ecr: Any) -> None:
    # Source: the same member: "This option cannot be used when you specify repositories with
    # repositoryNames."
    names = [f"team/app{i:03}" for i in range(0, 250, 2)]  # 125: more than a default page
    got = ecr.describe_repositories(repositoryNames=names)["repositories"]
    assert len(got) == 125
    with pytest.raises(ClientError) as exc:
        ecr.describe_repositories(repositoryNames=names[:1], maxResults=10)
    assert exc.value.response["Error"]["Code"] == "InvalidParameterException"


def test_a_bad_next_token_is_refused(ecr: Any) -> None:
    # Source: botocore ECR model, InvalidParameterException for a request parameter that is not
    # valid; ECR answers a forged token so (the sandbox's rule pages use the same message).
    with pytest.raises(ClientError) as exc:
        ecr.describe_repositories(nextToken="not-a-token")
    assert exc.value.response["Error"]["Code"] == "InvalidParameterException"


def pulled(n: int) -> None:
    for j in range(n):
        simulate_pull(account_id=ACCOUNT, region=REGION, repository="hub/big", tag=f"v{j}")


@pytest.fixture
def big(aws: boto3.session.Session) -> Iterator[Any]:
    client = aws.client("ecr")
    client.create_pull_through_cache_rule(
        ecrRepositoryPrefix="hub",
        upstreamRegistryUrl="public.ecr.aws",
        upstreamRegistry="ecr-public",
    )
    pulled(230)
    yield client


def test_describe_images_and_list_images_page_at_100(big: Any) -> None:
    # Source: botocore ECR model, DescribeImagesRequest.maxResults and ListImagesRequest.maxResults:
    # "If this parameter is not used, then DescribeImages returns up to 100 results and a
    # nextToken value" (ListImages: the same), "between 1 and 1000".
    calls = count_calls(big)
    default = [
        d["imageTags"][0]
        for p in big.get_paginator("describe_images").paginate(repositoryName="hub/big")
        for d in p["imageDetails"]
    ]
    large = list(
        big.get_paginator("describe_images").paginate(
            repositoryName="hub/big", PaginationConfig={"PageSize": 1000}
        )
    )
    listed = [
        i
        for p in big.get_paginator("list_images").paginate(repositoryName="hub/big")
        for i in p["imageIds"]
    ]
    assert sorted(default) == sorted(f"v{j}" for j in range(230))
    assert len(large) == 1 and len(large[0]["imageDetails"]) == 230
    assert len(listed) == 230
    assert calls == ["DescribeImages"] * 4 + ["ListImages"] * 3
    # images named by ID are described whatever their number, as before
    ids = [{"imageTag": f"v{j}"} for j in range(0, 230, 2)]
    assert len(big.describe_images(repositoryName="hub/big", imageIds=ids)["imageDetails"]) == 115


def test_paging_holds_no_state_so_the_sandbox_still_pickles(big: Any, tmp_path: Any) -> None:
    # The sandbox state file pickles moto's backends (sandbox/statefile.py): a token is the
    # offset itself, so nothing is kept between pages and a token outlives a save and restore.
    from ecrcache.sandbox import statefile

    token = big.describe_images(repositoryName="hub/big")["nextToken"]
    path = tmp_path / "state"
    statefile.write(path, statefile.snapshot())
    saved = statefile.read(path)
    assert saved is not None
    statefile.restore(saved)
    assert (
        len(big.describe_images(repositoryName="hub/big", nextToken=token)["imageDetails"]) == 100
    )


def test_server_mode_pages_too(aws: boto3.session.Session) -> None:
    # ThreadedMotoServer (what `sandbox serve` and the benchmarks use): the patch is class-level.
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        ecr = boto3.client("ecr", region_name=REGION, endpoint_url=f"http://{host}:{port}")
        for i in range(120):
            ecr.create_repository(repositoryName=f"served/r{i}")
        page = ecr.describe_repositories()
        assert len(page["repositories"]) == 100 and page["nextToken"]
        rest = ecr.describe_repositories(nextToken=page["nextToken"])
        assert len(rest["repositories"]) == 20 and "nextToken" not in rest
    finally:
        server.stop()
