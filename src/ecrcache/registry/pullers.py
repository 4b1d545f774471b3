"""The ways test-pull pulls: over the registry API (timed per phase, with progress), with the
docker CLI (total time only), or, in the sandbox, a simulation of ECR's side effects."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

from ecrcache.errors import EXIT_FAILURE, EcrcacheError
from ecrcache.registry import Credentials, Manifest, Platform, RegistryClient, pull_image
from ecrcache.registry.pullresult import Attempt, Phase
from ecrcache.registry.pulltarget import Target

ClientFactory = Callable[[str, Credentials | None], RegistryClient]
# on_progress(attempt, bytes done, bytes of all blobs): once the blobs are known, then per blob.
ProgressCallback = Callable[[str, int, int], None]


class PullTestError(EcrcacheError):
    """test-pull could not run its pull (the docker CLI or its daemon is missing, docker failed)."""

    exit_code = EXIT_FAILURE
    code = "test-pull"


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
