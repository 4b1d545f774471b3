"""Config → desired State. Pure: secret values arrive already read (see credentials.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping

from ecrcache.config import Config
from ecrcache.resources import MANAGED_TAGS, Rule, Secret, SecretValue, State


def secret_json(username: str, token: str) -> str:
    """The secret body ECR's pull-through cache reads: keys ``username`` and ``accessToken``."""
    return json.dumps({"username": username, "accessToken": token}, separators=(",", ":"))


def desired_state(config: Config, values: Mapping[str, SecretValue | None]) -> State:
    """The state the config asks for.

    ``values`` maps each managed secret's name to its value (None: not available now, so the
    value is left alone). Secrets the config only references carry no tags and no value.
    """
    secrets: dict[str, Secret] = {}
    rules: list[Rule] = []
    for rule in config.rule_list:
        cred = rule.credentials
        if cred is not None and cred.secret not in secrets:
            if cred.managed:
                secrets[cred.secret] = Secret(
                    cred.secret, value=values.get(cred.secret), tags=MANAGED_TAGS
                )
            else:
                secrets[cred.secret] = Secret(cred.secret)
        rules.append(
            Rule(
                prefix=rule.prefix,
                upstream=rule.upstream,
                url=rule.resolved_url,
                upstream_prefix=rule.upstream_prefix or "ROOT",
                credential=cred.secret if cred is not None else None,
                role_arn=rule.role_arn,
            )
        )
    return State.of(secrets=tuple(secrets.values()), rules=tuple(rules))
