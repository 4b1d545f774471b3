"""``doctor --image REF``: will this one reference pull through the cache? (§5, §8.5, §8.6)"""

from __future__ import annotations

from ecrcache.config.upstreams import UPSTREAMS, Credentials, kind_for_host, registry_host
from ecrcache.doctor.env import Env
from ecrcache.doctor.fixes import toml_key
from ecrcache.doctor.model import (
    AWS_GATE,
    ECR_GATE,
    Finding,
    Fix,
    Need,
    Severity,
    check,
    passed,
    problem,
    skipped,
)
from ecrcache.errors import InvalidReferenceError, UsageError
from ecrcache.rewrite import refs
from ecrcache.rewrite.mapping import Mapping, routes_from_rules


def _mapping(env: Env) -> Mapping:
    config = env.require_config()
    account = config.account_id or env.live.account_id
    host = registry_host(*config.registry_of(account, env.region))  # a spoke's: the hub's
    return Mapping(routes_from_rules(config.rule_list), host)


def _rule_snippet(kind: str | None) -> str | None:
    if kind is None or kind == "ecr":
        return None
    up = UPSTREAMS[kind]
    lines = [f"[rules.{toml_key(up.default_prefix)}]", f'upstream = "{kind}"']
    if up.credentials is Credentials.SECRET:
        lines += [
            f"[rules.{toml_key(up.default_prefix)}.credentials]",
            f'secret = "ecr-pullthroughcache/{up.default_prefix}"',
            'username = "<username>"',
            'token = { env = "<TOKEN_VARIABLE>" }',
        ]
    return "\n".join(lines)


@check(
    "image.rule",
    "A rule covers the image",
    Severity.ERROR,
    why="only references under a rule's prefix are fetched from an upstream",
    needs=(Need.IMAGE, Need.CONFIG, Need.AWS),
    after=ECR_GATE,
)
def image_rule(env: Env) -> Finding:
    from ecrcache.registry.testpull import resolve

    image = env.image or ""
    try:
        target, warnings = resolve(image, _mapping(env))
    except InvalidReferenceError as exc:
        return problem(exc.message, Fix(exc.hint or "write a valid image reference"))
    except UsageError as exc:
        ref = refs.parse_image(image)
        kind = kind_for_host(ref.domain)
        snippet = _rule_snippet(kind)
        return problem(
            exc.message,
            Fix(
                f"add a rule for {UPSTREAMS[kind].title if kind else ref.domain}, then apply"
                if snippet
                else "ECR's pull-through cache has no upstream for this registry",
                (env.commands.apply(),) if snippet else (),
                config=snippet,
            ),
        )
    unknown = [w for w in warnings if w.startswith("no rule in the config")]
    if unknown:
        return problem(unknown[0], Fix("add a rule with that prefix, or fix the reference"))
    live = {r.prefix for r in env.live.rules}
    prefix = _rule_prefix(target.repository, live | set(env.require_config().rules))
    if prefix is not None and prefix not in live:
        return problem(
            f"rule {prefix} is in the config but not in the registry",
            Fix("create it", (env.commands.apply(),)),
        )
    return passed(f"{image} → {target.image} (rule {prefix})")


def _rule_prefix(repository: str, prefixes: set[str]) -> str | None:
    matching = [p for p in prefixes if p != "ROOT" and repository.startswith(p + "/")]
    if matching:
        return max(matching, key=len)
    return "ROOT" if "ROOT" in prefixes else None


@check(
    "image.library",
    "Docker Hub official images keep library/",
    Severity.ERROR,
    why="ECR needs docker-hub/library/nginx, not docker-hub/nginx: without library/ the pull "
    "fails as an authentication error",
    needs=(Need.IMAGE, Need.CONFIG, Need.AWS),
    after=AWS_GATE,
)
def image_library(env: Env) -> Finding:
    mapping = _mapping(env)
    try:
        ref = refs.parse_image(env.image or "")
    except InvalidReferenceError as exc:
        return skipped(f"not a valid reference ({exc.message})")
    if not mapping.is_cache(ref):
        up = ref.domain in UPSTREAMS["docker-hub"].hosts
        return (
            passed("an upstream reference: the cache path gets library/ where needed")
            if up
            else skipped("not a Docker Hub reference")
        )
    upstream = mapping.reverse(ref)
    if upstream is None or upstream.domain not in UPSTREAMS["docker-hub"].hosts:
        return skipped("not a Docker Hub cache reference")
    if "/" in upstream.path:
        return passed(f"{ref.path} names a namespaced Docker Hub repository")
    fixed = ref.with_name(ref.domain, ref.path[: -len(upstream.path)] + "library/" + upstream.path)
    return problem(
        f"{ref.path} is a Docker Hub official image without library/",
        Fix(f"reference it as {fixed}", (f"docker pull {fixed}",)),
    )


@check(
    "image.digest",
    "Digest references are cached already",
    Severity.WARNING,
    why="ECR does not fill a cache miss requested by digest: the first pull must be by tag",
    needs=(Need.IMAGE, Need.CONFIG, Need.AWS),
    after=ECR_GATE,
)
def image_digest(env: Env) -> Finding:
    from ecrcache.aws import aws_errors, error_code
    from ecrcache.registry.testpull import resolve

    try:
        target, _ = resolve(env.image or "", _mapping(env))
    except (InvalidReferenceError, UsageError):
        return skipped("see image.rule")
    if not target.digest:
        return passed("pulled by tag: a first pull fills the cache")
    try:
        with aws_errors(f"look for {target.digest} in {target.repository}"):
            env.live.clients.ecr.describe_images(
                repositoryName=target.repository, imageIds=[{"imageDigest": target.digest}]
            )
    except Exception as exc:
        code = getattr(exc, "aws_code", None) or error_code(exc)
        if code not in ("RepositoryNotFoundException", "ImageNotFoundException"):
            raise
        ref = refs.parse_image(env.image or "")
        by_tag = refs.Reference(ref.domain, ref.path, ref.tag or "<tag>", None)
        return problem(
            f"{target.digest[:19]}… is not in {target.repository}: a pull by digest will fail",
            Fix(
                "pull it once by its tag (ECR then caches that digest), then by digest",
                (env.commands.ecrcache("test-pull", str(by_tag)),),
            ),
        )
    return passed(f"{target.digest[:19]}… is cached in {target.repository}")


CHECKS = (image_rule, image_library, image_digest)
