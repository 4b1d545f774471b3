"""Checks of the config, the caller, ECR in the region, and the rules."""

from __future__ import annotations

import difflib

from ecrcache.config.schema import MAX_RULES
from ecrcache.config.upstreams import UPSTREAMS, Credentials, upstream
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
    warning,
)
from ecrcache.errors import AwsAccessError, AwsError
from ecrcache.reconcile.resources import RULE_FIELDS, RULE_UPDATABLE, Rule

QUOTA_WARN_AT = 45


@check(
    "config.valid",
    "Config file",
    Severity.ERROR,
    why="every other check compares the account with what the config declares",
)
def config_valid(env: Env) -> Finding:
    path = env.context.config_path
    if env.config_error is not None or env.config is None:
        err = env.config_error
        message = err.message if err is not None else f"{path}: not loaded"
        return problem(
            message,
            Fix(
                (err.hint if err is not None and err.hint else "correct the file")
                + "; then check it offline",
                (env.commands.ecrcache("validate"),),
            ),
            *(err.details if err is not None else ()),
        )
    c = env.config
    return passed(
        f"{path}: {len(c.rules)} rule(s), {len(c.templates)} template(s) in {c.region}",
        *c.warnings(),
    )


@check(
    "creds.identity",
    "AWS credentials and identity",
    Severity.ERROR,
    why="every AWS check, apply and each pull need working credentials for the right account",
    needs=(Need.AWS,),
)
def creds_identity(env: Env) -> Finding:
    try:
        ident = env.live.identity
    except AwsAccessError as exc:
        profile = env.context.profile
        cmds = (
            (env.commands.aws_global("sso", "login"),)
            if profile and "sso" in env.context.credential_source
            else (env.commands.aws_global("configure"),)
        )
        return problem(
            exc.message,
            Fix(
                "give ecrcache credentials as the AWS CLI finds them (aws configure, "
                "aws sso login --profile NAME, AWS_PROFILE), or try --sandbox",
                cmds,
            ),
        )
    account, arn = ident["Account"], ident.get("Arn", "?")
    want = env.config.account_id if env.config is not None else None
    if want is not None and want != account:
        return problem(
            f"the credentials are for account {account}, the config is for {want}",
            Fix(
                f"use credentials for {want} (--profile), or, if {account} is right, set it "
                "in the config",
                config=f'account_id = "{account}"',
            ),
        )
    return passed(f"{arn} (account {account})")


def _known_regions(env: Env) -> set[str]:
    session = env.live.clients.session
    out: set[str] = set()
    for partition in session.get_available_partitions():
        out.update(session.get_available_regions("ecr", partition_name=partition))
    return out


@check(
    "ecr.available",
    "ECR and pull-through cache in the region",
    Severity.ERROR,
    why="pull-through cache rules are regional: the region must offer ECR and answer",
    needs=(Need.AWS,),
    after=AWS_GATE,
)
def ecr_available(env: Env) -> Finding:
    region = env.region
    known = _known_regions(env)
    if known and region not in known and not env.context.endpoint_url:
        close = difflib.get_close_matches(region, sorted(known), n=1)
        guess = close[0] if close else "<region>"
        return problem(
            f"ECR has no endpoint in {region!r} (botocore's endpoint data)",
            Fix(
                f"use a region ECR offers{f' (did you mean {guess}?)' if close else ''}",
                config=f'region = "{guess}"',
            ),
        )
    try:
        env.live.clients.ecr.describe_pull_through_cache_rules(maxResults=1)
    except AwsAccessError:
        raise
    except Exception as exc:
        from ecrcache.aws import translate

        err = exc if isinstance(exc, AwsError) else translate(exc, "list pull-through cache rules")
        return problem(
            f"ECR in {region} did not answer: {err.message}",
            Fix(
                "check the network path to the ECR API (proxy, VPC endpoint "
                f"com.amazonaws.{region}.ecr.api) and --endpoint-url",
            ),
        )
    details: tuple[str, ...] = ()
    if region.startswith(("cn-", "us-gov-")):  # listed as unsupported once; now unverified
        details = (f"pull-through cache support in {region} is not confirmed by current docs",)
    return passed(f"ECR answers in {region}; pull-through cache rules are listed", *details)


@check(
    "rule.quota",
    "Rule quota headroom",
    Severity.ERROR,
    why=f"a registry holds at most {MAX_RULES} pull-through cache rules (not adjustable)",
    needs=(Need.CONFIG, Need.AWS),
    after=ECR_GATE,
)
def rule_quota(env: Env) -> Finding:
    config = env.require_config()
    live = {r.prefix for r in env.live.rules}
    want = set(config.rules)
    total, unmanaged = len(live | want), sorted(live - want)
    if total > MAX_RULES:
        if unmanaged and len(want) <= MAX_RULES:
            # apply creates before it deletes, so `apply --prune` would hit the limit: delete
            # the rules the config does not declare first.
            fix = Fix(
                f"delete the {len(unmanaged)} rule(s) not in the config (at least "
                f"{total - MAX_RULES}), then apply",
                (
                    *(
                        env.commands.aws(
                            "ecr", "delete-pull-through-cache-rule", "--ecr-repository-prefix", p
                        )
                        for p in unmanaged
                    ),
                    env.commands.apply(),
                ),
            )
        else:
            fix = Fix(f"declare at most {MAX_RULES} rules; merge upstreams or use another region")
        return problem(
            f"{total} rules after apply ({len(live)} now); ECR allows {MAX_RULES}",
            fix,
            *(f"not in the config: {', '.join(unmanaged)}",) if unmanaged else (),
        )
    text = f"{len(live)} rule(s) in the registry, {total} after apply, of {MAX_RULES}"
    if total >= QUOTA_WARN_AT:
        return warning(text + ": little headroom left")
    return passed(text)


def _desired_rules(env: Env) -> dict[str, Rule]:
    from ecrcache.reconcile.desired import desired_state

    state = desired_state(
        env.require_config(), {}, account_id=env.live.account_id, region=env.region
    )
    return dict(state.rules)


@check(
    "rule.present",
    "Configured rules exist",
    Severity.ERROR,
    why="a prefix without its rule is a plain repository path: pulls there return 'not found'",
    needs=(Need.CONFIG, Need.AWS),
    after=ECR_GATE,
)
def rule_present(env: Env) -> Finding:
    want = sorted(env.require_config().rules)
    if not want:
        return skipped("the config declares no rules")
    live = {r.prefix for r in env.live.rules}
    missing = [p for p in want if p not in live]
    if missing:
        return problem(
            f"{len(missing)} of {len(want)} configured rule(s) missing: {', '.join(missing)}",
            Fix("create them", (env.commands.apply(),)),
        )
    unmanaged = sorted(live - set(want))
    return passed(
        f"all {len(want)} configured rules exist",
        *(f"also in the registry, not in the config: {', '.join(unmanaged)}",) if unmanaged else (),
    )


@check(
    "rule.matches",
    "Rules match the config",
    Severity.ERROR,
    why="a rule with another upstream, URL, prefix, secret or role pulls from the wrong place",
    needs=(Need.CONFIG, Need.AWS),
    after=ECR_GATE,
)
def rule_matches(env: Env) -> Finding:
    desired = _desired_rules(env)
    live = {r.prefix: r for r in env.live.rules}
    diffs, replace = [], False
    for prefix, want in sorted(desired.items()):
        have = live.get(prefix)
        if have is None:
            continue
        if have == want:
            # Same secret name, but maybe not the same secret: a re-created one has a new ARN.
            s = env.live.secret_named(want.credential) if want.credential else None
            if s is not None and s.arn and have.credential_arn not in (None, s.arn):
                diffs.append(
                    f"{prefix}: secret {want.credential} was re-created; the rule still holds "
                    f"the old ARN {have.credential_arn} (now {s.arn})"
                )
            continue
        fields = [f for f in RULE_FIELDS if getattr(have, f) != getattr(want, f)]
        replace = replace or any(f not in RULE_UPDATABLE for f in fields)
        diffs.append(
            f"{prefix}: "
            + "; ".join(f"{f} {getattr(have, f)!r} → {getattr(want, f)!r}" for f in fields)
        )
    if diffs:
        cmd = env.commands.apply("--force") if replace else env.commands.apply()
        how = (
            "replace (upstream, URL and upstream prefix cannot be updated)" if replace else "update"
        )
        return problem(
            f"{len(diffs)} rule(s) differ from the config", Fix(f"{how} them", (cmd,)), *diffs
        )
    present = sum(1 for p in desired if p in live)
    return passed(f"{present} rule(s) match the config")


@check(
    "upstream.credentials",
    "Upstreams that need credentials have them",
    Severity.ERROR,
    why="Docker Hub, GHCR, GitLab, ACR and Chainguard need a secret; another account's ECR "
    "needs a role: without them ECR cannot fetch",
    needs=(Need.CONFIG, Need.AWS),
    after=ECR_GATE,
)
def upstream_credentials(env: Env) -> Finding:
    config = env.require_config()
    account = env.live.account_id
    lacking: list[tuple[str, str, str | None]] = []  # (prefix, what is missing, the fix TOML)
    rules = {r.prefix: r for r in env.live.rules}
    for prefix, r in sorted(rules.items()):
        need = upstream(r.upstream).credentials if r.upstream in UPSTREAMS else Credentials.NONE
        declared = config.rules.get(prefix)
        key = f"rules.{toml_key(prefix)}"
        snippet: str | None
        if need is Credentials.SECRET and not r.credential:
            snippet = (
                f'[{key}.credentials]\nsecret = "ecr-pullthroughcache/{prefix.lower()}"\n'
                'username = "<username>"\ntoken = { env = "<TOKEN_VARIABLE>" }'
            )
            lacking.append((prefix, f"{r.upstream} needs a secret", snippet))
        elif r.upstream == "ecr" and not r.role_arn and r.url.split(".", 1)[0] != account:
            role = f"arn:aws:iam::{account}:role/ecr-ptc-upstream"
            snippet = f'[{key}]\nrole_arn = "{role}"' if declared else None
            lacking.append(
                (prefix, f"{r.url} is another account's ECR: it needs role_arn", snippet)
            )
    if not lacking:
        return passed(f"{len(rules)} rule(s): every upstream that needs credentials has them")
    configs = [s for _, _, s in lacking if s]
    return problem(
        "; ".join(f"{p}: {what}" for p, what, _ in lacking),
        Fix(
            "add the credentials to the config (a role must trust "
            "pullthroughcache.ecr.amazonaws.com), then apply",
            (env.commands.apply(),),
            config="\n\n".join(configs) or None,
        ),
    )


@check(
    "rule.validate",
    "ValidatePullThroughCacheRule",
    Severity.ERROR,
    why="ECR reports a bad upstream credential only here, or later as a vague pull failure",
    needs=(Need.AWS, Need.NETWORK),
    after=ECR_GATE,
)
def rule_validate(env: Env) -> Finding:
    from ecrcache.aws import aws_errors
    from ecrcache.doctor.secretfix import value_commands

    with_creds = [r for r in env.live.raw_rules if r.get("credentialArn") or r.get("customRoleArn")]
    if not with_creds:
        return skipped("no rule uses credentials")
    failures, fixes = [], []
    for r in with_creds:
        prefix = r["ecrRepositoryPrefix"]
        with aws_errors(f"validate rule {prefix}"):
            resp = env.live.clients.ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix=prefix)
        if resp.get("isValid"):
            continue
        failures.append(f"{prefix}: {resp.get('failure') or 'not valid (no reason given)'}")
        arn = r.get("credentialArn")
        if arn:
            from ecrcache.reconcile.resources import secret_name_from_arn

            fixes.append(
                value_commands(
                    env.commands,
                    env.config,
                    secret_name_from_arn(arn),
                    create=False,
                )
            )
    if failures:
        fix = Fix(
            "give each rule a working credential: " + "; ".join(f.summary for f in fixes)
            if fixes
            else "check the rule's custom role (trust pullthroughcache.ecr.amazonaws.com)",
            tuple(dict.fromkeys(c for f in fixes for c in f.commands)),
        )
        return problem(f"{len(failures)} rule(s) not valid", fix, *failures)
    note = (
        ("sandbox: the secrets' form was checked; no upstream was contacted",)
        if env.sandbox
        else ()
    )
    return passed(f"{len(with_creds)} rule(s) with credentials validated", *note)


CHECKS = (
    config_valid,
    creds_identity,
    ecr_available,
    rule_quota,
    rule_present,
    rule_matches,
    upstream_credentials,
    rule_validate,
)
