"""Test a pull through the cache: pull one image twice (cold, then warm) and verify the ECR side.

``resolve`` turns the reference a user typed into the cache target (pure); ``test_pull`` runs the
pulls through an injected ``Puller`` (the registry API, or the docker CLI) or, in the sandbox,
an injected simulation, then verifies through an ECR client what the pull left behind. No rich,
no typer: the CLI renders the frozen result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ecrcache import interrupts
from ecrcache.errors import EXIT_FAILURE, EcrcacheError
from ecrcache.registry import Platform, RegistryError, RegistryNotFoundError
from ecrcache.registry.pullers import (
    Puller,
    PullTestError,
    api_puller,
    docker_puller,
    simulator,
)
from ecrcache.registry.pullresult import Attempt, Method, Phase, PullTestResult, Verification
from ecrcache.registry.pulltarget import DIGEST_HINT, Target, resolve, resolve_on
from ecrcache.registry.verify import repository_exists, verify

ATTEMPTS = ("cold", "warm")
SIMULATED_NOTE = "simulated: no image data was transferred"


# -- the test --------------------------------------------------------------------------------


def test_pull(
    target: Target,
    *,
    reference: str,
    platform: Platform,
    pull: Puller | None = None,
    simulate: Callable[[], None] | None = None,
    ecr: Any | None = None,
    warnings: tuple[str, ...] = (),
    method: Method = "registry-api",
) -> PullTestResult:
    """Pull ``target`` cold, then warm, with ``pull``; or, in the sandbox, run ``simulate`` once
    instead (nothing is transferred). Then verify through ``ecr`` when given.

    A failed pull raises its registry error, prefixed with the attempt; a first pull by digest
    that is not found gets a hint saying why.
    """
    if (pull is None) == (simulate is None):
        raise ValueError("pass exactly one of pull and simulate")
    existed = repository_exists(ecr, target.repository) if ecr is not None else None
    attempts: list[Attempt] = []
    if simulate is not None:
        simulate()
        interrupts.record_applied(f"simulated pull of {target.image}")
        method = "simulated"
    else:
        assert pull is not None
        attempts = [_attempt(pull, label, target) for label in ATTEMPTS]
    found = [a.digest for a in attempts if a.digest]
    notes = list(warnings)
    if len(set(found)) > 1:
        notes.append(f"the cold and warm pulls resolved to different digests: {', '.join(found)}")
    verification = (
        verify(ecr, target, existed_before=existed, pulled_digest=found[-1] if found else None)
        if ecr is not None
        else None
    )
    if verification is not None:
        notes += _verification_warnings(verification, simulated=method == "simulated")
    return PullTestResult(
        reference=reference,
        cache_reference=target.image,
        registry_url=target.registry_url,
        repository=target.repository,
        platform=str(platform),
        method=method,
        attempts=tuple(attempts),
        verification=verification,
        warnings=tuple(notes),
        note=_note(method, target),
    )


class PullCheckError(EcrcacheError):
    """The pulls ran, but ECR does not show what they should have created: a smoke test that
    must fail. Carries the result, so ``--output json`` holds it next to the error."""

    exit_code = EXIT_FAILURE
    code = "check-failed"

    def __init__(self, result: PullTestResult, *, hint: str) -> None:
        first, *rest = result.failures
        super().__init__(f"test-pull failed: {first}", hint=hint, details=tuple(rest))
        self.data = result.to_dict()
        self.warnings = result.warnings


def check(result: PullTestResult, *, doctor: str) -> None:
    """Raise PullCheckError when ``result.failures`` says ECR did not cache the image.
    ``doctor``: the command that looks for why, named in the hint."""
    if not result.failures:
        return
    target_hint = DIGEST_HINT if result.verification and "@" in result.cache_reference else None
    raise PullCheckError(result, hint=target_hint or f"`{doctor}` looks for why")


def _note(method: Method, target: Target) -> str | None:
    if method != "simulated":
        return None
    if target.no_fill_reason:
        return f"{SIMULATED_NOTE}; ECR would not fetch {target.no_fill_reason} from the upstream"
    return SIMULATED_NOTE


test_pull.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, despite its name


def _attempt(pull: Puller, label: str, target: Target) -> Attempt:
    try:
        attempt = pull(label)
    except RegistryError as exc:
        hint = exc.hint
        if isinstance(exc, RegistryNotFoundError) and target.digest:
            hint = DIGEST_HINT
        raise type(exc)(f"{label} pull: {exc.message}", hint=hint, status=exc.status) from exc
    interrupts.record_applied(f"{label} pull of {target.image}")  # a cold pull fills the cache
    return attempt


def _verification_warnings(v: Verification, *, simulated: bool) -> list[str]:
    if v.error:
        return [f"could not verify on ECR: {v.error}"]
    out = []  # a missing repository or image is a failure, not a warning: PullTestResult.failures
    if v.exists and v.lifecycle_policy is False:
        out.append(
            f"{v.repository!r} has no lifecycle policy: cached images are kept (and billed) "
            "until deleted; a repository creation template for the prefix sets one"
        )
    if v.digest_matches is False and not simulated:
        out.append(f"ECR lists {v.image_digest} for the tag, not the digest just pulled")
    return out


__all__ = [
    "Attempt",
    "Phase",
    "PullCheckError",
    "PullTestError",
    "PullTestResult",
    "Target",
    "Verification",
    "api_puller",
    "check",
    "docker_puller",
    "resolve",
    "resolve_on",
    "simulator",
    "test_pull",
    "verify",
]
