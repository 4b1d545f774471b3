"""The fix for a secret that is missing or holds the wrong thing: ``ecrcache apply`` when the
config owns its value (a token source), else the exact ``aws secretsmanager`` command with
``<placeholders>`` to replace. Never a real value."""

from __future__ import annotations

from ecrcache.config.rules import CredentialsConfig
from ecrcache.config.schema import Config
from ecrcache.doctor.fixes import Commands, compact_json
from ecrcache.doctor.model import Fix

PLACEHOLDER_TOKEN = "<access-token>"


def credentials_for(config: Config | None, name: str) -> CredentialsConfig | None:
    if config is None:
        return None
    for rule in config.rule_list:
        if rule.credentials is not None and rule.credentials.secret == name:
            return rule.credentials
    return None


def _body(cred: CredentialsConfig | None) -> str:
    user = cred.username if cred is not None and isinstance(cred.username, str) else "<username>"
    return compact_json({"username": user, "accessToken": PLACEHOLDER_TOKEN})


def value_commands(commands: Commands, config: Config | None, name: str, *, create: bool) -> Fix:
    """Create the secret (``create``) or give it a new value, the way the config intends."""
    cred = credentials_for(config, name)
    if cred is not None and cred.token is not None:
        return Fix(
            f"ecrcache writes {name} from {cred.token.describe()} (username/accessToken keys): "
            "make that value available, then apply",
            (commands.apply(),),
        )
    body = _body(cred)
    if create:
        cmd = commands.aws(
            "secretsmanager", "create-secret", "--name", name, "--secret-string", body
        )
        return Fix(
            f"create {name} with the keys ECR reads (replace the <placeholders>), under the "
            "default aws/secretsmanager key",
            (cmd,),
        )
    cmd = commands.aws(
        "secretsmanager", "put-secret-value", "--secret-id", name, "--secret-string", body
    )
    return Fix(
        f"give {name} a JSON value with username and accessToken (replace the <...>)", (cmd,)
    )
