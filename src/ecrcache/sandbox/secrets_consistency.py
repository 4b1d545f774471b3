"""ListSecrets as Secrets Manager serves it: a view of the account up to a few minutes old.

Secrets Manager API reference, ListSecrets: "All Secrets Manager operations are eventually
consistent. ListSecrets might not reflect changes from the last five minutes. You can get more
recent information for a specific secret by calling DescribeSecret." moto lists the current
state. Here every change made through the backend records the secret's list entry (by ARN, with
the time), and ListSecrets serves, for each secret, the newest entry at least ``window()``
seconds old: a secret created within the window is not listed yet, one deleted within it is
still listed as it was, a tag or a deletion scheduled within it is not seen yet. DescribeSecret
and every other call stay current, as in AWS.

The window is ``ECRCACHE_SANDBOX_LISTSECRETS_LAG`` seconds (default 60: enough that a plan run
seconds after an apply sees the lag, short enough that ``--sandbox`` stays usable; 0 turns it
off), or ``set_window`` for a process (tests). ``settle()`` makes every recorded change old, as
if five minutes had passed. The history is a plain attribute of moto's backend, so it is saved
with the sandbox state and works in moto's server as in the in-process mock.
"""

from __future__ import annotations

import copy
import functools
import os
import threading
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

ENV_WINDOW = "ECRCACHE_SANDBOX_LISTSECRETS_LAG"
DEFAULT_WINDOW_S = 60.0
# History older than this (and than the window) is compacted to the one entry still served.
_KEEP_S = 300.0
_ATTR = "_ecrcache_listing_history"  # arn -> [(since, list entry or None when gone), ...]
_WRAPPED = "_ecrcache_consistency"
# Every backend call that can change what ListSecrets shows.
_MUTATING = (
    "create_secret",
    "create_managed_secret",
    "update_secret",
    "put_secret_value",
    "delete_secret",
    "restore_secret",
    "tag_resource",
    "untag_resource",
    "rotate_secret",
    "cancel_rotate_secret",
    "update_secret_version_stage",
    "replicate_secret_to_regions",
    "remove_regions_from_replication",
)
_override: float | None = None
_lock = threading.Lock()

History = dict[str, list[tuple[float, dict[str, Any] | None]]]


def window() -> float:
    """The lag in seconds: ``set_window``'s value, else the environment, else the default."""
    if _override is not None:
        return _override
    raw = os.environ.get(ENV_WINDOW)
    try:
        return max(float(raw), 0.0) if raw else DEFAULT_WINDOW_S
    except ValueError:
        return DEFAULT_WINDOW_S


def set_window(seconds: float | None) -> None:
    """Set the lag for this process (None: back to the environment or the default)."""
    global _override
    _override = seconds


def settle() -> None:
    """Make every change recorded so far old enough to be listed ("five minutes later")."""
    from moto.backends import get_backend

    for _, _, backend in get_backend("secretsmanager").iter_backends():
        history: History = backend.__dict__.get(_ATTR, {})
        for arn, versions in history.items():
            history[arn] = [(float("-inf"), versions[-1][1])]


def _history(backend: Any) -> History:
    history: History = backend.__dict__.setdefault(_ATTR, {})
    return history


def _observe(backend: Any, now: float, *, unseen_since: float) -> None:
    """Record each secret whose list entry changed; ``unseen_since`` dates a secret with no
    history (0: it existed before recording began, e.g. in an older state file)."""
    history = _history(backend)
    present = set()
    for secret in list(backend.secrets.values()):
        entry = copy.deepcopy(secret.to_dict())
        arn = entry["ARN"]
        present.add(arn)
        versions = history.get(arn)
        if versions is None:
            history[arn] = [(unseen_since, entry)]
        elif versions[-1][1] != entry:
            versions.append((now, entry))
    for arn, versions in history.items():
        if arn not in present and versions[-1][1] is not None:
            versions.append((now, None))  # force-deleted (or its name was re-used: a new ARN)
    _compact(history, now - max(_KEEP_S, window()))


def _compact(history: History, horizon: float) -> None:
    for arn in list(history):
        versions = history[arn]
        old = [i for i, (since, _) in enumerate(versions) if since <= horizon]
        if old and old[-1] > 0:
            del versions[: old[-1]]
        if len(versions) == 1 and versions[0][1] is None and versions[0][0] <= horizon:
            del history[arn]  # gone long enough ago that no view shows it


def _served(versions: list[tuple[float, dict[str, Any] | None]], cutoff: float) -> Any:
    entry = None
    for since, value in versions:
        if since > cutoff:
            break
        entry = value
    return entry


def _as_secret(entry: dict[str, Any]) -> SimpleNamespace:
    """What moto's list filters read from a secret, from a recorded entry."""
    return SimpleNamespace(
        name=entry["Name"],
        description=entry.get("Description"),
        tags=entry.get("Tags"),
        owning_service=entry.get("OwningService"),
        replicas=[],
    )


def _lagging_list_secrets(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def list_secrets(
        self: Any,
        filters: list[dict[str, Any]],
        max_results: int | None = None,
        next_token: str | None = None,
        include_planned_deletion: bool = False,
    ) -> tuple[list[dict[str, Any]], str | None]:
        lag = window()
        if lag <= 0:
            return original(
                self,
                filters=filters,
                max_results=max_results or 100,
                next_token=next_token,
                include_planned_deletion=include_planned_deletion,
            )
        from moto.secretsmanager.models import _matches

        now = time.time()
        with _lock:
            _observe(self, now, unseen_since=0.0)
            served = [_served(v, now - lag) for v in _history(self).values()]
        listed = [
            entry
            for entry in served
            if entry is not None
            and (include_planned_deletion or not entry.get("DeletedDate"))
            and _matches(_as_secret(entry), filters)  # type: ignore[arg-type]
        ]
        page, token = self._get_secret_values_page_and_next_token(listed, max_results, next_token)
        return page, token

    setattr(list_secrets, _WRAPPED, True)
    return list_secrets


def _recording(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            _observe(self, time.time(), unseen_since=0.0)
        try:
            return original(self, *args, **kwargs)
        finally:
            with _lock:
                now = time.time()
                _observe(self, now, unseen_since=now)

    setattr(call, _WRAPPED, True)
    return call


def install() -> None:
    """Wrap moto's Secrets Manager backend (class-level: every account and region). Idempotent."""
    from moto.secretsmanager.models import SecretsManagerBackend

    with _lock:
        if not getattr(SecretsManagerBackend.list_secrets, _WRAPPED, False):
            SecretsManagerBackend.list_secrets = _lagging_list_secrets(  # type: ignore[method-assign]
                SecretsManagerBackend.list_secrets
            )
        for name in _MUTATING:
            method = getattr(SecretsManagerBackend, name, None)
            if method is not None and not getattr(method, _WRAPPED, False):
                setattr(SecretsManagerBackend, name, _recording(method))
