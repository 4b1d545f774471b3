"""Test a pull through the cache: pull one image twice (cold, then warm) and verify the ECR side.

``resolve`` turns the reference a user typed into the cache target (pure); ``test_pull`` runs the
pulls through an injected ``Puller`` (the registry API, or the docker CLI) or, in the sandbox,
an injected simulation, then verifies through an ECR client what the pull left behind. No rich,
no typer: the CLI renders the frozen result.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from ecrcache.config.upstreams import UPSTREAMS
from ecrcache.errors import EXIT_FAILURE, EcrcacheError, UsageError
from ecrcache.registry import (
    Credentials,
    Manifest,
    Platform,
    RegistryClient,
    RegistryError,
    RegistryNotFoundError,
    pull_image,
)
from ecrcache.rewrite import refs
from ecrcache.rewrite.mapping import Mapping

ATTEMPTS = ("cold", "warm")
SIMULATED_NOTE = "simulated: no image data was transferred"
DIGEST_HINT = (
    "ECR does not populate the cache on a first pull by digest: pull the tag once, then the digest"
)

ClientFactory = Callable[[str, Credentials | None], RegistryClient]
# on_progress(attempt, bytes done, bytes of all blobs): once the blobs are known, then per blob.
ProgressCallback = Callable[[str, int, int], None]
Method = Literal["registry-api", "docker", "simulated"]


class PullTestError(EcrcacheError):
    """test-pull could not run its pull (the docker CLI or its daemon is missing, docker failed)."""

    exit_code = EXIT_FAILURE
    code = "test-pull"


# -- what to pull ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where a pull goes: ``registry_url`` (with scheme), a repository there, tag and/or digest."""

    registry_url: str
    repository: str
    tag: str | None
    digest: str | None
    # Why ECR could not fill a cache miss for this reference from the upstream (None: it can).
    no_fill_reason: str | None = None

    @property
    def reference(self) -> str:
        """What a client asks the registry for: the digest when there is one (as docker does)."""
        return self.digest or self.tag or "latest"

    @property
    def image(self) -> str:
        """The reference as ``docker pull`` takes it: ``host/repository[:tag][@digest]``."""
        host = urlsplit(self.registry_url).netloc
        suffix = f"@{self.digest}" if self.digest else f":{self.tag or 'latest'}"
        return f"{host}/{self.repository}{suffix}"


def resolve(text: str, mapping: Mapping) -> tuple[Target, tuple[str, ...]]:
    """The cache target for ``text`` (an upstream or a cache reference) and warnings about it.

    Raises InvalidReferenceError (exit 2) for a malformed reference, UsageError (exit 2) when no
    rule covers an upstream reference: there is then no cache reference to pull.
    """
    ref = refs.parse_image(text)
    warnings = list(_digest_warnings(ref))
    no_fill = "a pull by digest" if ref.digest else None
    if mapping.is_cache(ref):
        cache = ref
        upstream = mapping.reverse(ref)
        if upstream is None:
            warnings.append(
                f"no rule in the config has the prefix of {ref.path!r}: ECR will not fetch it "
                "from an upstream unless a rule outside the config does"
            )
        elif upstream.domain in UPSTREAMS["docker-hub"].hosts and "/" not in upstream.path:
            official = ref.path[: -len(upstream.path)] + refs.OFFICIAL_REPO_PREFIX + upstream.path
            warnings.append(
                f"{ref.path!r} is a Docker Hub official image without library/: ECR needs "
                f"{official!r}"
            )
            no_fill = "a Docker Hub official image without library/"
    else:
        mapped = mapping.forward(ref)
        if mapped is None:
            raise UsageError(
                f"no pull-through cache rule in the config covers {ref.domain} ({text})",
                hint="add a rule for that upstream, or pass the cache reference itself",
            )
        cache = mapped
    target = Target(f"https://{cache.domain}", cache.path, cache.tag, cache.digest, no_fill)
    return target, tuple(warnings)


def resolve_on(text: str, registry_url: str) -> tuple[Target, tuple[str, ...]]:
    """The target for ``text`` on a registry given by URL (a non-ECR cache, such as a
    distribution proxy): no rules, the path is the repository on that registry."""
    ref = refs.parse(text)
    url = (registry_url if "://" in registry_url else f"https://{registry_url}").rstrip("/")
    # The first component is a registry only if it looks like a host (as docker reads names).
    first, _, rest = ref.name.partition("/")
    is_host = bool(rest) and ("." in first or ":" in first or first == refs.LOCALHOST)
    if is_host and first != urlsplit(url).netloc:
        raise UsageError(
            f"{text!r} names the registry {first}, but --registry-url is {registry_url}",
            hint="drop the registry from the reference",
        )
    path = rest if is_host else ref.name
    return Target(url, path, ref.tag, ref.digest), _digest_warnings(ref)


def _digest_warnings(ref: refs.Reference) -> tuple[str, ...]:
    if not ref.digest:
        return ()
    if ref.tag:
        return (
            "the reference has a tag and a digest: clients pull by the digest alone, and "
            + DIGEST_HINT[0].lower()
            + DIGEST_HINT[1:],
        )
    return (f"the reference is digest-only: {DIGEST_HINT}",)


# -- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phase:
    seconds: float
    bytes: int

    @property
    def throughput(self) -> float:
        """Bytes per second (0 when nothing measurable was timed)."""
        return self.bytes / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Attempt:
    """One pull. ``manifest``/``blobs`` are None for docker, which reports only the total."""

    label: str  # "cold" or "warm"
    seconds: float
    digest: str | None  # what the reference resolved to (the index's for a multi-arch image)
    manifest_digest: str | None = None  # the chosen platform's manifest
    platform: str | None = None  # None when the reference named a single-platform manifest
    manifest: Phase | None = None
    blobs: Phase | None = None
    blob_count: int = 0


@dataclass(frozen=True)
class Verification:
    """What ECR shows after the pull. ``error`` says why a check could not be made."""

    repository: str
    exists: bool
    created: bool | None  # created by this pull; None when the state before is unknown
    lifecycle_policy: bool | None = None
    tag_mutability: str | None = None
    encryption: str | None = None
    image_listed: bool = False
    image_digest: str | None = None
    image_size: int | None = None
    digest_matches: bool | None = None  # against the pulled digest; None with nothing to compare
    error: str | None = None


@dataclass(frozen=True)
class PullTestResult:
    reference: str  # as the user gave it
    cache_reference: str
    registry_url: str
    repository: str
    platform: str
    method: Method
    attempts: tuple[Attempt, ...]
    verification: Verification | None
    warnings: tuple[str, ...]
    note: str | None = None

    @property
    def simulated(self) -> bool:
        return self.method == "simulated"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; throughput in bytes per second, times in seconds (3 decimals)."""
        return {
            "reference": self.reference,
            "cache_reference": self.cache_reference,
            "registry_url": self.registry_url,
            "repository": self.repository,
            "platform": self.platform,
            "method": self.method,
            "simulated": self.simulated,
            "note": self.note,
            "attempts": [_attempt_dict(a) for a in self.attempts],
            "verification": asdict(self.verification) if self.verification else None,
        }


def _phase_dict(phase: Phase | None) -> dict[str, Any] | None:
    if phase is None:
        return None
    return {
        "seconds": round(phase.seconds, 3),
        "bytes": phase.bytes,
        "throughput": round(phase.throughput),
    }


def _attempt_dict(a: Attempt) -> dict[str, Any]:
    blobs = _phase_dict(a.blobs)
    return {
        "attempt": a.label,
        "seconds": round(a.seconds, 3),
        "digest": a.digest,
        "manifest_digest": a.manifest_digest,
        "platform": a.platform,
        "manifest": _phase_dict(a.manifest),
        "blobs": blobs | {"count": a.blob_count} if blobs else None,
    }


# -- pulling ---------------------------------------------------------------------------------

Puller = Callable[[str], Attempt]


def api_puller(
    target: Target,
    *,
    platform: Platform,
    client_factory: ClientFactory,
    credentials: Credentials | None = None,
    on_progress: ProgressCallback | None = None,
    workers: int = 4,
) -> Puller:
    """Pulls over the registry API, each with a new client: every attempt pays for its own
    connections and auth handshake, so cold and warm differ only in the cache's state."""

    def pull(label: str) -> Attempt:
        with client_factory(target.registry_url, credentials) as client:
            probe = _Probe(client, label, on_progress)
            # _Probe has the two methods pull_image calls; it times them and reports progress.
            result = pull_image(
                probe,  # type: ignore[arg-type]
                target.repository,
                target.reference,
                platform=platform,
                workers=workers,
            )
        manifest = Phase(probe.manifest_seconds, probe.manifest_bytes)
        blob_seconds = max(result.seconds - probe.manifest_seconds, 0.0)
        return Attempt(
            label=label,
            seconds=result.seconds,
            digest=str(result.digest),
            manifest_digest=str(result.manifest.digest),
            platform=str(result.platform) if result.platform else None,
            manifest=manifest,
            blobs=Phase(blob_seconds, result.bytes),
            blob_count=len(result.blobs),
        )

    return pull


class _Probe:
    """A RegistryClient stand-in: times manifest fetches and counts bytes of finished blobs."""

    def __init__(self, client: RegistryClient, label: str, on_progress: ProgressCallback | None):
        self._client, self._label, self._on_progress = client, label, on_progress
        self._lock = threading.Lock()
        self.manifest_seconds = 0.0
        self.manifest_bytes = 0
        self._done = 0
        self._total = 0

    def get_manifest(self, repository: str, reference: str) -> Manifest:
        started = time.perf_counter()
        manifest = self._client.get_manifest(repository, reference)
        self.manifest_seconds += time.perf_counter() - started
        self.manifest_bytes += len(manifest.raw)
        if not manifest.is_index:  # the image manifest: its blobs are what comes next
            self._total = sum(d.size for d in manifest.blobs)
            self._report()
        return manifest

    def download_blob(self, repository: str, blob: Any, *, dest: Any = None) -> Any:
        result = self._client.download_blob(repository, blob, dest=dest)
        with self._lock:  # blobs finish on several threads
            self._done += result.size
            self._report()
        return result

    def _report(self) -> None:
        if self._on_progress is not None:
            self._on_progress(self._label, self._done, self._total)


# -- the docker CLI --------------------------------------------------------------------------

Runner = Callable[..., "subprocess.CompletedProcess[str]"]


def docker_puller(
    target: Target, *, platform: Platform, docker: str = "docker", run: Runner = subprocess.run
) -> tuple[Puller, tuple[str, ...]]:
    """Pulls with ``docker pull`` (total time only), and warnings. Raises PullTestError when the
    CLI is missing or cannot reach a daemon. Between attempts the image is removed from the local
    store (unless it was there before), so the warm pull measures the registry, not the disk."""
    exe = shutil.which(docker)
    if exe is None:
        raise PullTestError(
            "--docker: the docker CLI is not installed (not on PATH)",
            hint="drop --docker: test-pull pulls over the registry API by itself",
        )
    info = run([exe, "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True)
    if info.returncode != 0:
        detail = _last_line(info.stderr) or f"exit status {info.returncode}"
        raise PullTestError(
            f"--docker: the docker CLI cannot reach a Docker daemon ({detail})",
            hint="start Docker or set DOCKER_HOST; or drop --docker to pull over the registry API",
        )
    image = target.image
    had_it = run([exe, "image", "inspect", image], capture_output=True, text=True).returncode == 0
    warnings = (
        (f"{image} is already in Docker's local image store: both pulls only check the manifest",)
        if had_it
        else ()
    )

    def pull(label: str) -> Attempt:
        started = time.perf_counter()
        done = run(
            [exe, "pull", "--platform", str(platform), image], capture_output=True, text=True
        )
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise PullTestError(
                f"{label} pull: docker pull {image} failed: {_last_line(done.stderr)}",
                hint="log Docker in to the registry first (`ecrcache login`)",
            )
        if not had_it:
            run([exe, "image", "rm", image], capture_output=True, text=True)
        digest = next(
            (ln.split()[-1] for ln in done.stdout.splitlines() if ln.startswith("Digest:")), None
        )
        return Attempt(label=label, seconds=seconds, digest=digest, platform=str(platform))

    return pull, warnings


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1] if lines else ""


# -- ECR verification ------------------------------------------------------------------------


def _repository(ecr: Any, name: str) -> dict[str, Any] | None:
    try:
        repos = ecr.describe_repositories(repositoryNames=[name])["repositories"]
    except ecr.exceptions.RepositoryNotFoundException:
        return None
    return dict(repos[0]) if repos else None


def _has_lifecycle_policy(ecr: Any, name: str) -> bool:
    try:
        ecr.get_lifecycle_policy(repositoryName=name)
    except ecr.exceptions.LifecyclePolicyNotFoundException:
        return False
    return True


def _image(ecr: Any, target: Target) -> dict[str, Any] | None:
    image_id = {"imageDigest": target.digest} if target.digest else {"imageTag": target.reference}
    try:
        images = ecr.describe_images(repositoryName=target.repository, imageIds=[image_id])
    except ecr.exceptions.ImageNotFoundException:
        return None
    details = images.get("imageDetails") or []
    return dict(details[0]) if details else None


def verify(
    ecr: Any, target: Target, *, existed_before: bool | None, pulled_digest: str | None
) -> Verification:
    """What ECR shows for the target: repository (and whether this pull created it), its
    lifecycle policy, tag mutability, encryption, and the image with its digest. Reads only
    (DescribeRepositories, GetLifecyclePolicy, DescribeImages). An AWS error becomes
    ``error``, not an exception: the pull itself has already succeeded."""
    from ecrcache.aws import aws_errors

    name = target.repository
    try:
        with aws_errors(f"verify the repository {name}"):
            repo = _repository(ecr, name)
            if repo is None:
                created = False if existed_before is not None else None
                return Verification(repository=name, exists=False, created=created)
            lifecycle = _has_lifecycle_policy(ecr, name)
            image = _image(ecr, target)
    except EcrcacheError as exc:
        return Verification(repository=name, exists=False, created=None, error=exc.message)
    digest = image.get("imageDigest") if image else None
    return Verification(
        repository=name,
        exists=True,
        created=None if existed_before is None else not existed_before,
        lifecycle_policy=lifecycle,
        tag_mutability=repo.get("imageTagMutability"),
        encryption=(repo.get("encryptionConfiguration") or {}).get("encryptionType"),
        image_listed=image is not None,
        image_digest=digest,
        image_size=image.get("imageSizeInBytes") if image else None,
        digest_matches=(digest == pulled_digest) if digest and pulled_digest else None,
    )


def _exists(ecr: Any, name: str) -> bool | None:
    """Whether the repository exists now; None when that cannot be read (no permission)."""
    from ecrcache.aws import aws_errors

    try:
        with aws_errors(f"describe the repository {name}"):
            return _repository(ecr, name) is not None
    except EcrcacheError:
        return None


def simulator(
    target: Target, *, account_id: str, region: str, platform: Platform
) -> Callable[[], None]:
    """The sandbox's stand-in for the pulls: ECR's side effects of a first pull by tag (needs
    the sandbox's moto mock active when called). Where ECR could not fill the miss (a pull by
    digest, an official image without library/), it populates nothing, as ECR would not."""

    def simulate() -> None:
        if target.no_fill_reason:
            return
        from ecrcache.sandbox.pulls import simulate_pull

        simulate_pull(
            account_id=account_id,
            region=region,
            repository=target.repository,
            tag=target.tag or "latest",
            platforms=tuple(dict.fromkeys(("linux/amd64", "linux/arm64", str(platform)))),
        )

    return simulate


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
    existed = _exists(ecr, target.repository) if ecr is not None else None
    attempts: list[Attempt] = []
    if simulate is not None:
        simulate()
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


def _note(method: Method, target: Target) -> str | None:
    if method != "simulated":
        return None
    if target.no_fill_reason:
        return f"{SIMULATED_NOTE}; ECR would not fetch {target.no_fill_reason} from the upstream"
    return SIMULATED_NOTE


test_pull.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, despite its name


def _attempt(pull: Puller, label: str, target: Target) -> Attempt:
    try:
        return pull(label)
    except RegistryError as exc:
        hint = exc.hint
        if isinstance(exc, RegistryNotFoundError) and target.digest:
            hint = DIGEST_HINT
        raise type(exc)(f"{label} pull: {exc.message}", hint=hint, status=exc.status) from exc


def _verification_warnings(v: Verification, *, simulated: bool) -> list[str]:
    if v.error:
        return [f"could not verify on ECR: {v.error}"]
    out = []
    if not v.exists:
        out.append(f"ECR has no repository {v.repository!r} after the pull")
    elif not v.image_listed:
        out.append(f"ECR does not list the image in {v.repository!r}")
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
    "PullTestError",
    "PullTestResult",
    "Target",
    "Verification",
    "api_puller",
    "docker_puller",
    "resolve",
    "resolve_on",
    "simulator",
    "test_pull",
    "verify",
]
