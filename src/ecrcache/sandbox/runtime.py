"""The --sandbox runtime: a simulated AWS account (moto + the ECR extension) kept in a file.

``open_sandbox`` loads the saved account, yields a boto3 Session on it, and saves it again on
exit, also when the body raised: a run that stopped part-way leaves its changes, as a real
account would. One invocation at a time holds the state (a lock file beside it).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecrcache import interrupts
from ecrcache.errors import SandboxError

if TYPE_CHECKING:
    import boto3

SANDBOX_ACCOUNT_ID = "123456789012"  # moto's default account
INSTALL_HINT = "pip install 'ecrcache[sandbox]'"
_FAKE_KEY_ID = "AKIAECRCACHESANDBOX0"
_FAKE_SECRET = "ecrcache-sandbox-secret-not-a-real-credential"
# Variables that would make botocore read the user's profile, config or a real endpoint.
_SCRUBBED_ENV = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_ECR",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_ENDPOINT_URL_IAM",
    "AWS_ENDPOINT_URL_STS",
)
_LOCK_TIMEOUT_S = 30.0


def default_state_path() -> Path:
    """ECRCACHE_SANDBOX_STATE, else $XDG_STATE_HOME/ecrcache/sandbox.state, else
    ~/.local/state/ecrcache/sandbox.state."""
    explicit = os.environ.get("ECRCACHE_SANDBOX_STATE")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "ecrcache" / "sandbox.state"


@contextlib.contextmanager
def _fake_aws_env(region: str) -> Iterator[None]:
    """Fixed fake credentials and no user AWS config while the sandbox is open; restored after."""
    saved = dict(os.environ)
    for name in _SCRUBBED_ENV:
        os.environ.pop(name, None)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": _FAKE_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": _FAKE_SECRET,
            "AWS_DEFAULT_REGION": region,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def lock_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".lock")


def serving_endpoint(state_path: Path) -> str | None:
    """The endpoint ``ecrcache sandbox serve`` announced in the lock file, if it does (it may be
    stale: only meaningful while the lock is held)."""
    try:
        doc = json.loads(lock_path(state_path).read_text() or "null")
    except (OSError, ValueError):
        return None
    endpoint = doc.get("endpoint") if isinstance(doc, dict) else None
    return endpoint if isinstance(endpoint, str) else None


def live_server(state_path: Path) -> str | None:
    """The endpoint of the ``sandbox serve`` holding the state now, None when none does."""
    try:
        import fcntl
    except ImportError:
        return None
    try:
        fd = os.open(lock_path(state_path), os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # free: no server (a stale announcement)
        return None
    except BlockingIOError:
        return serving_endpoint(state_path)
    finally:
        os.close(fd)


def announce_server(state_path: Path, endpoint: str | None) -> None:
    """Record (or, with None, clear) in the lock file that a server holds the state, so that a
    ``--sandbox`` run can name the endpoint to use instead. The caller holds the lock."""
    text = json.dumps({"owner": "sandbox serve", "endpoint": endpoint, "pid": os.getpid()})
    lock_path(state_path).write_text(text if endpoint else "")


def _held_by_server(state_path: Path, endpoint: str) -> SandboxError:
    return SandboxError(
        f"the sandbox state {state_path} is held by `ecrcache sandbox serve` at {endpoint}",
        hint=f"point the command at it with --endpoint-url {endpoint} instead of --sandbox, "
        "or stop the server (Ctrl-C) first",
    )


@contextlib.contextmanager
def _locked(state_path: Path) -> Iterator[None]:
    """An exclusive lock on ``<state>.lock`` against concurrent invocations (POSIX flock).

    A running ``sandbox serve`` holds it for its whole life: waiting would be pointless, so that
    is refused at once, naming the server's endpoint (see ``announce_server``)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, as before the sandbox had one
        yield
        return
    state_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(lock_path(state_path), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + _LOCK_TIMEOUT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                endpoint = serving_endpoint(state_path)
                if endpoint:
                    raise _held_by_server(state_path, endpoint) from None
                if time.monotonic() > deadline:
                    raise SandboxError(
                        f"the sandbox state {state_path} is in use by another ecrcache process",
                        hint="wait for it to finish, then run the command again",
                    ) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)  # a server killed with SIGKILL left its announcement behind
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _require_moto() -> Any:
    try:
        import moto
    except ImportError as exc:
        raise SandboxError(
            "the sandbox needs moto, which is not installed", hint=INSTALL_HINT
        ) from exc
    return moto


@contextlib.contextmanager
def open_sandbox(*, region: str, state_path: Path | None = None) -> Iterator[boto3.session.Session]:
    """Yield a boto3 Session on the simulated account, loaded from and saved to the state file.

    Never reads the user's AWS config or credentials. Raises SandboxError (one line, with a
    hint) when moto is missing or the state file is corrupt or from another moto version; the
    file is then left untouched.
    """
    moto = _require_moto()
    import boto3

    from ecrcache.sandbox import statefile
    from ecrcache.sandbox.ecr_extension import install

    path = state_path or default_state_path()
    install()
    with _locked(path), _fake_aws_env(region):
        saved = statefile.read(path)  # before the mock: a bad file must not be overwritten
        with moto.mock_aws():
            if saved:
                statefile.restore(saved)
            session = boto3.session.Session(
                aws_access_key_id=_FAKE_KEY_ID,
                aws_secret_access_key=_FAKE_SECRET,
                region_name=region,
            )
            if not saved:  # a new account: with the roles the example config names
                from ecrcache.sandbox.seed import seed

                seed(session.client("iam"))

            def save() -> None:
                # Ctrl-C waits for the save (``interrupts.held``): the file is the old state or
                # the new one, and holds every change made and reported done.
                with interrupts.held():
                    statefile.write(path, statefile.snapshot())

            try:
                # Saved after every change too, before apply reports it done: even a SIGKILL
                # then loses no change that was shown done, as in a real account.
                with interrupts.persisting(save):
                    yield session
            finally:
                save()


def reset_sandbox(state_path: Path | None = None) -> bool:
    """Delete the state file; True if there was one."""
    path = state_path or default_state_path()
    if not path.parent.is_dir():
        return False
    with _locked(path):  # not under a running `sandbox serve`, which would write it back
        try:
            path.unlink()
        except FileNotFoundError:
            return False
    return True


@dataclass(frozen=True)
class SandboxStatus:
    """What the state file holds, counted over every account and region in it."""

    path: Path
    exists: bool
    size_bytes: int
    rules: int
    templates: int
    repositories: int
    images: int
    secrets: int


def sandbox_status(state_path: Path | None = None) -> SandboxStatus:
    """Count what the saved sandbox holds, without starting it. SandboxError if unreadable."""
    _require_moto()
    from ecrcache.sandbox import statefile

    path = state_path or default_state_path()
    saved = statefile.read(path)
    if saved is None:
        return SandboxStatus(path, False, 0, 0, 0, 0, 0, 0)
    ecr = [b for regions in saved.get("ecr", {}).values() for b in regions.values()]
    sm = [b for regions in saved.get("secretsmanager", {}).values() for b in regions.values()]
    return SandboxStatus(
        path=path,
        exists=True,
        size_bytes=path.stat().st_size,
        rules=sum(len(b.__dict__.get("pull_through_cache_rules", {})) for b in ecr),
        templates=sum(len(b.__dict__.get("repository_creation_templates", {})) for b in ecr),
        repositories=sum(len(b.repositories) for b in ecr),
        images=sum(len(r.images) for b in ecr for r in b.repositories.values()),
        secrets=sum(len(b.secrets) for b in sm),
    )
