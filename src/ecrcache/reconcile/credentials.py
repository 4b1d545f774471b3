"""Read credential values from where the config says: environment, file, stdin or a command.

Values are wrapped in SecretValue at once. Errors name the source, never the value, and a
command's output is never quoted (it may be the secret).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import TextIO

from ecrcache.config.rules import ValueSource
from ecrcache.config.schema import Config
from ecrcache.errors import CredentialSourceError
from ecrcache.inputfile import MAX_SECRET_BYTES, read_text_capped
from ecrcache.reconcile.desired import secret_json
from ecrcache.reconcile.resources import SecretValue
from ecrcache.secrecy import looks_like_credential, remember, shown

COMMAND_TIMEOUT = 30.0
SANDBOX_PLACEHOLDER = "sandbox-placeholder-token"


def _name(text: str) -> str:
    """A variable or file name for a message, unless it looks like a pasted credential."""
    return "(name not shown: it looks like a credential)" if looks_like_credential(text) else text


class Unavailable(Exception):
    """The source has no value now (variable unset, file missing, command not installed)."""


@dataclass
class SourceReader:
    """Reads ValueSources. Environment and stdin are injectable for tests; stdin is read once."""

    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    stdin: TextIO | None = None
    run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run
    _stdin_value: str | None = None

    def read(self, source: ValueSource, where: str) -> str:
        """The value, remembered as secret (``secrecy.redact`` then hides it everywhere)."""
        value = self._read(source, where)
        remember(value)
        return value

    def _read(self, source: ValueSource, where: str) -> str:
        if source.env is not None:
            value = self.environ.get(source.env)
            if not value:
                raise Unavailable(f"environment variable {_name(source.env)} is not set")
            return value
        if source.file is not None:
            path = source.file.expanduser()
            try:
                text = read_text_capped(
                    path, limit=MAX_SECRET_BYTES, what="secret file", error=CredentialSourceError
                )
            except FileNotFoundError:
                raise Unavailable(f"file {_name(str(path))} does not exist") from None
            except CredentialSourceError as exc:
                if looks_like_credential(str(path)):  # never quote what may be a pasted token
                    raise CredentialSourceError(
                        f"{where}: cannot read the file it names (name not shown: it looks "
                        "like a credential)"
                    ) from None
                raise CredentialSourceError(f"{where}: {exc.message}", hint=exc.hint) from None
            return text.strip()
        if source.command is not None:
            return self._command(source.command, where)
        return self._read_stdin(where)

    def _command(self, argv: tuple[str, ...], where: str) -> str:
        prog = shown(argv[0], "program name")
        try:
            done = self.run(
                list(argv), capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False
            )
        except FileNotFoundError:
            # Not installed here (a CI job without the secrets tool): no value now, as an unset
            # variable; a command that runs and fails is an error.
            raise Unavailable(f"command {prog} not found") from None
        except subprocess.TimeoutExpired:
            raise CredentialSourceError(
                f"{where}: command {prog} did not finish in {COMMAND_TIMEOUT:.0f}s"
            ) from None
        if done.returncode != 0:
            raise CredentialSourceError(
                f"{where}: command {prog} exited with status {done.returncode}",
                hint="run it yourself to see why (its output is not shown: it may be a secret)",
            )
        value = done.stdout.strip()
        if len(value.encode()) > MAX_SECRET_BYTES:
            raise CredentialSourceError(
                f"{where}: command {prog} printed more than {MAX_SECRET_BYTES} bytes",
                hint="a Secrets Manager value holds at most 65,536 bytes",
            )
        if not value:
            raise CredentialSourceError(f"{where}: command {prog} printed nothing")
        return value

    def _read_stdin(self, where: str) -> str:
        if self._stdin_value is None:
            stream = self.stdin if self.stdin is not None else sys.stdin
            if stream.isatty():
                raise CredentialSourceError(
                    f"{where}: expects the value on standard input, which is a terminal",
                    hint="pipe it in: `pass show dockerhub | ecrcache apply ...`",
                )
            text = stream.read(MAX_SECRET_BYTES + 1)
            if len(text) > MAX_SECRET_BYTES:
                raise CredentialSourceError(
                    f"{where}: standard input holds more than {MAX_SECRET_BYTES} characters",
                    hint="a Secrets Manager value holds at most 65,536 bytes",
                )
            self._stdin_value = text.strip()
        if not self._stdin_value:
            raise CredentialSourceError(f"{where}: standard input was empty")
        return self._stdin_value


@dataclass(frozen=True)
class SecretValues:
    """Values read for each managed secret, and why any could not be read."""

    values: Mapping[str, SecretValue | None]
    unavailable: Mapping[str, str]  # secret name -> reason (e.g. "DOCKERHUB_TOKEN is not set")
    placeholders: tuple[str, ...] = ()  # sandbox only
    placeholder_reasons: Mapping[str, str] = field(default_factory=dict)  # why each stands in

    def settled(self, existing: Collection[str]) -> SecretValues:
        """The sandbox's placeholders stand in only for secrets that do not exist yet (so the
        sandbox can create them without a token). An existing secret whose token is not set is
        treated as on a real account: its value is not checked and is left as it is."""
        drop = [n for n in self.placeholders if n in existing]
        if not drop:
            return self
        return replace(
            self,
            values={**self.values, **dict.fromkeys(drop)},
            unavailable={**self.unavailable, **{n: self.placeholder_reasons[n] for n in drop}},
            placeholders=tuple(n for n in self.placeholders if n not in existing),
        )


def read_secret_values(
    config: Config, reader: SourceReader, *, sandbox: bool = False
) -> SecretValues:
    """Read the username and token of every secret ecrcache manages.

    A source with no value now gives None (the plan then leaves that value alone, or reports that
    the secret cannot be created). In the sandbox a placeholder stands in, and is reported.
    """
    values: dict[str, SecretValue | None] = {}
    unavailable: dict[str, str] = {}
    placeholders: list[str] = []
    reasons: dict[str, str] = {}
    for key, rule in config.rules.items():
        cred = rule.credentials
        if cred is None or not cred.managed or cred.secret in values:
            continue
        assert cred.token is not None and cred.username is not None
        base = f"rules.{key}.credentials"
        try:
            username = (
                cred.username
                if isinstance(cred.username, str)
                else reader.read(cred.username, f"{base}.username")
            )
            token = reader.read(cred.token, f"{base}.token")
        except Unavailable as why:
            if sandbox:
                placeholders.append(cred.secret)
                reasons[cred.secret] = str(why)
                user = cred.username if isinstance(cred.username, str) else "sandbox"
                values[cred.secret] = SecretValue.of(secret_json(user, SANDBOX_PLACEHOLDER))
                continue
            values[cred.secret] = None
            unavailable[cred.secret] = str(why)
            continue
        values[cred.secret] = SecretValue.of(secret_json(username, token))
    return SecretValues(values, unavailable, tuple(placeholders), reasons)
