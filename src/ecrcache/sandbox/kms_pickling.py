"""moto's KMS keys, made picklable for the sandbox's state file.

moto 5.2 gives every KMS key (symmetric ones too) a ``private_key`` wrapper around a
``cryptography`` key object, which ``pickle`` refuses ("cannot pickle ... RSAPrivateKey"), so one
KMS key in the account made ``statefile.write`` fail. The AWS-managed ``aws/ecr`` key that
``kms_default_key`` creates for KMS repositories is such a key. ``install()`` gives moto's key
wrappers a state of DER bytes (PKCS#8, unencrypted: the sandbox's keys protect nothing) and
rebuilds the ``cryptography`` object on load. Idempotent.
"""

from __future__ import annotations

from typing import Any

_FIELD = "private_key"


def _getstate(self: Any) -> dict[str, Any]:
    from cryptography.hazmat.primitives import serialization

    state = dict(self.__dict__)
    state[_FIELD] = self.private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return state


def _setstate(self: Any, state: dict[str, Any]) -> None:
    from cryptography.hazmat.primitives import serialization

    state = dict(state)
    state[_FIELD] = serialization.load_der_private_key(state[_FIELD], password=None)
    self.__dict__.update(state)


def install() -> None:
    from moto.kms.utils import ECDSAPrivateKey, RSAPrivateKey

    for cls in (RSAPrivateKey, ECDSAPrivateKey):
        setattr(cls, "__getstate__", _getstate)  # noqa: B010
        setattr(cls, "__setstate__", _setstate)  # noqa: B010
