"""The images to warm: from references given, or from the references rewrite finds in files.

No second reference finder: files go through rewrite's own ``walk.find_targets`` and
``rewrite_file_text``, forward (upstream references, whose edit's ``after`` is the cache
reference) and in reverse (references already in the cache form, whose edit's ``before`` is).
Each cache reference is then resolved exactly as test-pull resolves one (``pulltarget.resolve``).
A Helm image block rewrite rewrote comes whole from rewrite (``FileRewrite.helm_images``: the
name it mapped, with the block's tag and digest), not from its edits, which hold parts of it.
The same image named in several places is one job, with every place listed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ecrcache.errors import EcrcacheError, InvalidReferenceError
from ecrcache.registry.pulltarget import DIGEST_HINT, resolve
from ecrcache.registry.warm.model import WarmJob
from ecrcache.rewrite import refs
from ecrcache.rewrite.edits import Edit
from ecrcache.rewrite.files import FileRewrite, rewrite_file_text
from ecrcache.rewrite.helm import Image
from ecrcache.rewrite.mapping import Mapping
from ecrcache.rewrite.sources import read_file
from ecrcache.rewrite.walk import find_targets

VARIABLE_PROBLEM = "the reference uses a variable: warm cannot know its value"
VARIABLE_HINT = "pass the reference with its value: ecrcache warm NAME:TAG"
HELM_PROBLEM = (
    "a Helm image block with no tag: the chart chooses one (often its appVersion), "
    "so warm cannot tell which to pull"
)
HELM_HINT = "pass the reference with its tag: ecrcache warm NAME:TAG"
# A Helm block's value edit: the line holds `repository:` (or `registry:`) before the value.
_HELM_KEY = re.compile(r"(?:^|[\s{,-])(repository|registry)\s*:\s*[\"']?$")


@dataclass
class _Collector:
    """Jobs by image, in first-seen order; the places each is named accumulate."""

    registry_url: str | None
    jobs: dict[str, WarmJob] = field(default_factory=dict)

    def add(self, job: WarmJob) -> None:
        if job.target is not None and self.registry_url:
            job = replace(job, target=replace(job.target, registry_url=self.registry_url))
        seen = self.jobs.get(job.key)
        if seen is None:
            self.jobs[job.key] = job
        else:
            sources = tuple(dict.fromkeys(seen.sources + job.sources))
            self.jobs[job.key] = replace(seen, sources=sources)

    def result(self) -> tuple[WarmJob, ...]:
        return tuple(self.jobs.values())


def _job(text: str, cache_text: str, source: str, mapping: Mapping) -> tuple[WarmJob, list[str]]:
    """The job for ``cache_text`` (a reference rewrite mapped, or one given); warnings."""
    try:
        target, warnings = resolve(cache_text, mapping)
    except EcrcacheError as exc:
        return WarmJob(text, (source,), None, exc.message, exc.hint), []
    # test-pull's warnings about digests say clients pull by the digest; warm pulls the tag, and
    # reports a digest-only reference as a failure of its own.
    return WarmJob(text, (source,), target), [w for w in warnings if DIGEST_HINT[1:] not in w]


def jobs_from_references(
    references: Iterable[str], mapping: Mapping, *, registry_url: str | None = None
) -> tuple[tuple[WarmJob, ...], tuple[str, ...]]:
    """Jobs for references given as arguments; a malformed one raises InvalidReferenceError
    (exit 2) before anything is pulled, one no rule covers becomes a failed job."""
    out = _Collector(registry_url)
    warnings: list[str] = []
    for text in references:
        text = text.strip()
        refs.parse_image(text)
        job, more = _job(text, text, "argument", mapping)
        out.add(job)
        warnings += more
    return out.result(), tuple(dict.fromkeys(warnings))


def jobs_from_files(
    paths: Iterable[Path], mapping: Mapping, *, registry_url: str | None = None
) -> tuple[tuple[WarmJob, ...], tuple[str, ...]]:
    """Jobs for every image reference rewrite finds in the files (directories recursively);
    rewrite's warnings about them (no rule, not a reference) come back as warnings."""
    out = _Collector(registry_url)
    warnings: list[str] = []
    listed = find_targets([str(p) for p in paths])
    warnings += listed.skipped
    for target in listed.targets:
        path = target.path
        read = read_file(path)
        if read.text is None:
            warnings.append(str(read.skipped))
            continue
        text = read.text
        forward = rewrite_file_text(path, text, mapping, kind=target.kind)
        warnings += [f"{path}:{line}: {message}" for line, message in forward.warnings]
        # The reverse pass finds references already in the cache form; its warnings are noise.
        backward = rewrite_file_text(path, text, mapping, reverse=True, kind=target.kind)
        found = [(e, e.after) for e in forward.edits] + [(e, e.before) for e in backward.edits]
        jobs: list[tuple[int, int, WarmJob, list[str]]] = []
        for edit, cache_text in found:
            job = _file_job(path, text, edit, cache_text, mapping)
            if job is not None:
                jobs.append((edit.line, edit.start, *job))
        jobs += [
            (image.line, -1, *_helm_job(path, image, cache, mapping))
            for image, cache in _helm_images(forward, backward)
        ]
        for line, _, job_, more in sorted(jobs, key=lambda j: (j[0], j[1])):
            out.add(job_)
            warnings += [f"{path}:{line}: {w}" for w in more]
    return out.result(), tuple(dict.fromkeys(warnings))


def _helm_images(forward: FileRewrite, backward: FileRewrite) -> list[tuple[Image, str]]:
    """Each Helm block rewrite rewrote, with its name in the cache form."""
    return [(i, i.after) for i in forward.helm_images] + [
        (i, i.before) for i in backward.helm_images
    ]


def _helm_job(
    path: Path, image: Image, cache_name: str, mapping: Mapping
) -> tuple[WarmJob, list[str]]:
    source = f"{path}:{image.line}"
    shown = image.reference(image.before)
    if not image.tag and not image.digest:
        return WarmJob(shown, (source,), None, HELM_PROBLEM, HELM_HINT), []
    return _job(shown, image.reference(cache_name), source, mapping)


def _file_job(
    path: Path, text: str, edit: Edit, cache_text: str, mapping: Mapping
) -> tuple[WarmJob, list[str]] | None:
    source = f"{path}:{edit.line}"
    if _HELM_KEY.search(text[text.rfind("\n", 0, edit.start) + 1 : edit.start]):
        return None  # a part of a Helm block: its whole reference is in helm_images
    if "$" in edit.before:
        return WarmJob(edit.before, (source,), None, VARIABLE_PROBLEM, VARIABLE_HINT), []
    try:
        ref = refs.parse_image(cache_text)
    except InvalidReferenceError:
        return None  # not a whole reference: a part of one rewrite edits separately
    if not mapping.is_cache(ref):
        return None
    return _job(edit.before, cache_text, source, mapping)
