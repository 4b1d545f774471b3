"""Network checks, run last, each bounded by ``Env.timeout``."""

from __future__ import annotations

from ecrcache.doctor.env import Env
from ecrcache.doctor.model import (
    Finding,
    Fix,
    Need,
    Severity,
    check,
    passed,
    problem,
    skipped,
)


@check(
    "net.registry",
    "Registry endpoint reachable",
    Severity.ERROR,
    why="pulls go to the registry endpoint, not the ECR API: a blocked /v2/ (proxy, missing "
    "ecr.dkr VPC endpoint) fails every pull",
    needs=(Need.NETWORK,),
)
def registry_reachable(env: Env) -> Finding:
    from ecrcache.errors import AwsError
    from ecrcache.registry import RegistryAuthError, RegistryClient, RegistryError

    if env.registry_url is None:
        if env.sandbox:
            return skipped("the sandbox's registry is simulated: there is no endpoint to reach")
        if env.clients is None:
            return skipped("no AWS region: the registry is not known")
        try:
            env.registry_host()
        except AwsError:
            return skipped("no account: the registry is not known (see creds.identity)")
    url = env.registry_url or f"https://{env.registry_host()}"
    curl = f"curl -sS -o /dev/null -w '%{{http_code}}\\n' {url}/v2/"
    with RegistryClient(url, timeout=env.timeout, connect_timeout=env.timeout) as client:
        try:
            client.ping()
        except RegistryAuthError as exc:
            if exc.status == 401:
                return passed(f"{url}/v2/ answers 401: reachable, credentials required")
            return problem(
                f"{url}/v2/: {exc.message}", Fix("expected 401; check the proxy", (curl,))
            )
        except RegistryError as exc:
            return problem(
                f"{url}/v2/: {exc.message}",
                Fix(
                    f"check DNS, the proxy and the VPC endpoints com.amazonaws.{env.region}"
                    ".ecr.dkr (and S3, for layers); expect 401",
                    (curl,),
                ),
            )
    return passed(f"{url}/v2/ answers without credentials")


CHECKS = (registry_reachable,)
