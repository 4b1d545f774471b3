"""Saving and loading moto's backends: the sandbox's whole simulated account, in one file.

moto 5.2.5 has no persistence of its own. Its backends pickle, except for the locks some hold
(ECRBackend keeps an RLock), which are written as placeholders and recreated on load. The file
starts with a magic line and records the moto version: pickled backends only load into the moto
that wrote them, so another version is reported as incompatible instead of half-loading.

Pickle runs code named in the file: it is loaded only when it is a regular file owned by the
user running ecrcache and writable by no one else (``_check_trusted``), as ssh treats its keys;
then it is trusted as their Python environment is.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import stat
import tempfile
import threading
from pathlib import Path
from typing import IO, Any

from ecrcache import interrupts
from ecrcache.errors import SandboxError

MAGIC = b"ECRCACHE-SANDBOX-STATE\n"
FORMAT = 1
# The services a simulated account needs; each is saved for every account and region used.
SERVICES = (
    "ecr",
    "secretsmanager",
    "iam",
    "sts",
    "kms",
    "events",
    "sns",
    "sqs",
    "logs",
    "budgets",
    "cloudwatch",
)
RESET_HINT = "run `ecrcache sandbox reset` to start from an empty sandbox"
_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))

Snapshot = dict[str, dict[str, dict[str, Any]]]  # service -> account -> region -> backend


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj: Any) -> str | None:
        if isinstance(obj, _LOCK_TYPES):
            return "rlock" if "RLock" in type(obj).__name__ else "lock"
        return None


class _Unpickler(pickle.Unpickler):
    def persistent_load(self, pid: Any) -> Any:
        if pid == "rlock":
            return threading.RLock()
        if pid == "lock":
            return threading.Lock()
        raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")


def _backend_dict(service: str) -> Any:
    from moto.backends import get_backend

    return get_backend(service)  # type: ignore[call-overload]


def snapshot() -> Snapshot:
    """Every instantiated backend of SERVICES (needs moto's mock active)."""
    out: Snapshot = {}
    for service in SERVICES:
        for account, region, backend in _backend_dict(service).iter_backends():
            out.setdefault(service, {}).setdefault(account, {})[region] = backend
    return out


def restore(state: Snapshot) -> None:
    """Put saved backends in place of moto's (call right after the mock started)."""
    for service, accounts in state.items():
        backends = _backend_dict(service)
        for account, regions in accounts.items():
            for region, backend in regions.items():
                backends[account][region] = backend


def _version() -> str:
    import moto

    return str(moto.__version__)


def encode(state: Snapshot) -> bytes:
    """The file's content for ``state`` (``sandbox serve`` compares it to skip unchanged saves)."""
    buf = io.BytesIO()
    buf.write(MAGIC)
    _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(
        {"format": FORMAT, "moto": _version(), "backends": state}
    )
    return buf.getvalue()


def write(path: Path, state: Snapshot) -> None:
    write_bytes(path, encode(state))


def write_bytes(path: Path, data: bytes) -> None:
    """Write atomically: a temporary file (mode 0600) in the same directory, fsync, os.replace.
    A reader, or a crash at any point, sees the old content or the new, never a mix. A Ctrl-C
    meanwhile waits until the file is in place (``interrupts.held``), then is raised."""
    with interrupts.held():
        _write_bytes(path, data)


def _write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=".sandbox-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _check_trusted(path: Path, st: os.stat_result) -> None:
    """Refuse a state file another user could have written: unpickling it runs its code."""
    uid = os.geteuid()
    if st.st_uid != uid:
        raise SandboxError(
            f"refusing to load the sandbox state {path}: it belongs to uid {st.st_uid}, not to "
            f"you (uid {uid}), and loading it runs the code it holds",
            hint=f"if you trust it, `chown {uid} {path}`; otherwise {RESET_HINT}",
        )
    if st.st_mode & 0o022:
        raise SandboxError(
            f"refusing to load the sandbox state {path}: others may write it "
            f"(mode {stat.S_IMODE(st.st_mode):04o}), and loading it runs the code it holds",
            hint=f"if you trust it, `chmod 600 {path}`; otherwise {RESET_HINT}",
        )


def read(path: Path) -> Snapshot | None:
    """The saved backends, None if there is no file; SandboxError if it cannot be used."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block the open below
            raise SandboxError(f"the sandbox state {path} is not a regular file", hint=RESET_HINT)
        f: IO[bytes] = path.open("rb")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SandboxError(
            f"cannot read the sandbox state {path}: {exc.strerror}", hint=RESET_HINT
        ) from exc
    with f:
        _check_trusted(path, os.fstat(f.fileno()))  # the file opened, not what the path is now
        if f.read(len(MAGIC)) != MAGIC:
            raise SandboxError(
                f"the sandbox state {path} is not an ecrcache state file", hint=RESET_HINT
            )
        try:
            doc = _Unpickler(f).load()
        except Exception as exc:  # any unpickling failure means the same thing to the user
            raise SandboxError(
                f"the sandbox state {path} is corrupt ({type(exc).__name__})", hint=RESET_HINT
            ) from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise SandboxError(f"the sandbox state {path} has an unknown format", hint=RESET_HINT)
    if doc.get("moto") != _version():
        raise SandboxError(
            f"the sandbox state {path} was written with moto {doc.get('moto')}, "
            f"this is moto {_version()}",
            hint=RESET_HINT,
        )
    backends = doc.get("backends")
    if not isinstance(backends, dict):
        raise SandboxError(f"the sandbox state {path} has an unknown format", hint=RESET_HINT)
    return backends
