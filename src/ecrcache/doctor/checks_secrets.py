"""Checks of the Secrets Manager secrets rules authenticate with (ECR-FACTS §2).

Values are read only to check their JSON keys; they never reach a finding, a fix or a log.
"""

from __future__ import annotations

import re

from ecrcache.config.rules import SECRET_PREFIX
from ecrcache.doctor.env import Env
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
from ecrcache.doctor.secretfix import value_commands
from ecrcache.inputfile import loads_json
from ecrcache.reconcile.planning import DEFAULT_SECRET_KEYS
from ecrcache.reconcile.resources import secret_name_from_arn

REQUIRED_KEYS = ("username", "accessToken")
_SECRET_ARN = re.compile(
    r"^arn:(?P<partition>[\w-]+):secretsmanager:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12})"
    r":secret:(?P<name>.+)$"
)


def _in_use(env: Env) -> list[str]:
    """Secret names the config declares and the live rules reference, sorted."""
    names = set()
    if env.config is not None:
        names |= {r.credentials.secret for r in env.config.rule_list if r.credentials}
    for r in env.live.raw_rules:
        arn = r.get("credentialArn")
        if arn:
            names.add(secret_name_from_arn(arn))
    return sorted(names)


@check(
    "secret.exists",
    "Configured secrets exist",
    Severity.ERROR,
    why="a rule whose secret is missing or scheduled for deletion fails every upstream fetch",
    needs=(Need.CONFIG, Need.AWS),
    after=AWS_GATE,
)
def secret_exists(env: Env) -> Finding:
    config = env.require_config()
    wanted = sorted({r.credentials.secret for r in config.rule_list if r.credentials})
    if not wanted:
        return skipped("no rule in the config uses a secret")
    missing, deleting = [], []
    for name in wanted:
        s = env.live.secret_named(name)
        if s is None:
            missing.append(name)
        elif s.pending_deletion:
            deleting.append(name)
    if not missing and not deleting:
        return passed(f"{len(wanted)} secret(s) exist in {env.region}: {', '.join(wanted)}")
    fixes = [value_commands(env.commands, config, n, create=True) for n in missing]
    for name in deleting:
        fixes.append(
            Fix(
                f"restore {name} (deleted secrets stay recoverable for their recovery window)",
                (env.commands.aws("secretsmanager", "restore-secret", "--secret-id", name),),
            )
        )
    text = "; ".join(
        [*(f"{n} does not exist in {env.region}" for n in missing)]
        + [f"{n} is scheduled for deletion" for n in deleting]
    )
    return problem(text, _merge(fixes))


def _merge(fixes: list[Fix]) -> Fix:
    """One fix of several; ``ecrcache apply`` last, since it needs the secrets it only
    references to exist already."""
    commands = list(dict.fromkeys(c for f in fixes for c in f.commands))
    commands.sort(key=lambda c: c.startswith("ecrcache ") and c.split()[-1] == "apply")
    return Fix("; ".join(dict.fromkeys(f.summary for f in fixes)), tuple(commands))


@check(
    "secret.location",
    "Secret names, account and region",
    Severity.ERROR,
    why="ECR reads only secrets named ecr-pullthroughcache/... in the rule's own account and "
    "region",
    needs=(Need.AWS,),
    after=ECR_GATE,
)
def secret_location(env: Env) -> Finding:
    account, region = env.live.account_id, env.region
    wrong, fixes = [], []
    used = 0
    for r in env.live.raw_rules:
        arn = r.get("credentialArn")
        if not arn:
            continue
        used += 1
        prefix = r["ecrRepositoryPrefix"]
        m = _SECRET_ARN.match(arn)
        if m is None:
            wrong.append(f"{prefix}: {arn!r} is not a Secrets Manager secret ARN")
            continue
        name = secret_name_from_arn(arn)
        problems = []
        if not m["name"].startswith(SECRET_PREFIX):
            problems.append(f"its name does not start with {SECRET_PREFIX}")
        if m["account"] != account:
            problems.append(f"it is in account {m['account']}, not {account}")
        if m["region"] != region:
            problems.append(f"it is in {m['region']}, not {region}")
        if not problems:
            continue
        wrong.append(f"{prefix}: secret {name}: " + ", ".join(problems))
        here = name if name.startswith(SECRET_PREFIX) else SECRET_PREFIX + name.rsplit("/", 1)[-1]
        local = env.live.secret_named(here)
        steps = (
            []
            if local
            else list(value_commands(env.commands, env.config, here, create=True).commands)
        )
        steps.append(
            env.commands.aws(
                "ecr",
                "update-pull-through-cache-rule",
                "--ecr-repository-prefix",
                prefix,
                "--credential-arn",
                local.arn if local and local.arn else f"<ARN of {here}>",
            )
        )
        fixes.append(Fix(f"point {prefix} at {here} in {region}", tuple(steps)))
    if not used:
        return skipped("no rule uses a secret")
    if wrong:
        return problem(f"{len(wrong)} rule(s) use a secret ECR cannot read", _merge(fixes), *wrong)
    return passed(f"{used} rule secret(s) named {SECRET_PREFIX}... in {account}/{region}")


@check(
    "secret.keys",
    "Secret values have username and accessToken",
    Severity.ERROR,
    why="ECR reads exactly the JSON keys username and accessToken; anything else fails "
    "authentication upstream",
    needs=(Need.AWS,),
    after=AWS_GATE,
)
def secret_keys(env: Env) -> Finding:
    from ecrcache.aws import aws_errors, error_code

    names = [n for n in _in_use(env) if (s := env.live.secret_named(n)) and not s.pending_deletion]
    if not names:
        return skipped("no existing secret is in use")
    bad, fixes = [], []
    for name in names:
        try:
            resp = env.live.clients.secretsmanager.get_secret_value(SecretId=name)
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":  # no value yet: reported below
                with aws_errors(f"read secret {name}"):
                    raise
            resp = {}
        why = _shape_problem(resp.get("SecretString"))
        resp = {}  # drop the value at once
        if why:
            bad.append(f"{name}: {why}")
            fixes.append(value_commands(env.commands, env.config, name, create=False))
    if bad:
        return problem(f"{len(bad)} secret(s) hold the wrong shape", _merge(fixes), *bad)
    return passed(f"{len(names)} secret(s) hold JSON with {' and '.join(REQUIRED_KEYS)}")


# Key names that are safe to show: what ECR expects under other spellings, and what other tools
# write (docker login's "auth", Kubernetes' "password").
EXPECTED_KEY_NAMES = frozenset(
    {
        *REQUIRED_KEYS,
        *(k.lower() for k in REQUIRED_KEYS),
        *(k.upper() for k in REQUIRED_KEYS),
        "user",
        "token",
        "password",
        "access_token",
        "accesstoken",
        "Username",
        "AccessToken",
        "auth",
        "email",
        "secret",
    }
)


def _shape_problem(text: str | None) -> str | None:
    """What is wrong with a secret's value, in words that never quote it."""
    if text is None:
        return "no string value"
    try:
        doc = loads_json(text)
    except ValueError:  # TooDeep too
        return "the value is not JSON"
    if not isinstance(doc, dict):
        return "the value is not a JSON object"
    missing = [k for k in REQUIRED_KEYS if not isinstance(doc.get(k), str) or not doc.get(k)]
    if missing:
        # Keys are named only when they are ones people expect (the usual mistakes); any other
        # is counted, never named: a key may be the pasted token itself.
        named = sorted(k for k in doc if k not in REQUIRED_KEYS and k in EXPECTED_KEY_NAMES)
        others = sum(1 for k in doc if k not in REQUIRED_KEYS and k not in EXPECTED_KEY_NAMES)
        has = [*named, *([f"{others} other key{'s' if others != 1 else ''}"] if others else [])]
        return f"missing or empty key(s) {', '.join(missing)}" + (
            f" (has {', '.join(has)})" if has else ""
        )
    return None


def _default_key(key_id: str | None) -> bool:
    return key_id in DEFAULT_SECRET_KEYS or str(key_id).endswith(":alias/aws/secretsmanager")


@check(
    "secret.kms",
    "Secrets use the default KMS key",
    Severity.ERROR,
    why="ECR can only decrypt secrets under aws/secretsmanager "
    "(UnableToDecryptSecretValueException otherwise)",
    needs=(Need.AWS,),
    after=AWS_GATE,
)
def secret_kms(env: Env) -> Finding:
    names = [n for n in _in_use(env) if env.live.secret_named(n)]
    if not names:
        return skipped("no existing secret is in use")
    custom = [(n, env.live.secret_named(n).kms_key_id) for n in names]  # type: ignore[union-attr]
    custom = [(n, k) for n, k in custom if not _default_key(k)]
    if not custom:
        return passed(f"{len(names)} secret(s) under the default aws/secretsmanager key")
    return problem(
        "; ".join(f"{n} is encrypted with {k}" for n, k in custom),
        Fix(
            "re-encrypt under the default key (UpdateSecret re-encrypts the current versions)",
            tuple(
                env.commands.aws(
                    "secretsmanager",
                    "update-secret",
                    "--secret-id",
                    n,
                    "--kms-key-id",
                    "alias/aws/secretsmanager",
                )
                for n, _ in custom
            ),
        ),
    )


CHECKS = (secret_exists, secret_location, secret_keys, secret_kms)
