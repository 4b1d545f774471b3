"""The images to warm: from references given, or from the references rewrite finds in files.

No second reference finder: files go through rewrite's own ``walk.find_targets`` and
``rewrite_file_text``, forward (upstream references, whose edit's ``after`` is the cache
reference) and in reverse (references already in the cache form, whose edit's ``before`` is).
Each cache reference is then resolved exactly as test-pull resolves one (``pulltarget.resolve``).
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
from ecrcache.rewrite.files import rewrite_file_text
from ecrcache.rewrite.mapping import Mapping
from ecrcache.rewrite.sources import read_file
from ecrcache.rewrite.walk import find_targets

VARIABLE_PROBLEM = "the reference uses a variable: warm cannot know its value"
VARIABLE_HINT = "pass the reference with its value: ecrcache warm NAME:TAG"
HELM_PROBLEM = "a Helm image block: the tag is in another key, so warm cannot tell which to pull"
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
        for edit, cache_text in sorted(found, key=lambda f: f[0].start):
            job = _file_job(path, text, edit, cache_text, mapping)
            if job is not None:
                job_, more = job
                out.add(job_)
                warnings += [f"{path}:{edit.line}: {w}" for w in more]
    return out.result(), tuple(dict.fromkeys(warnings))


def _file_job(
    path: Path, text: str, edit: Edit, cache_text: str, mapping: Mapping
) -> tuple[WarmJob, list[str]] | None:
    source = f"{path}:{edit.line}"
    helm = _HELM_KEY.search(text[text.rfind("\n", 0, edit.start) + 1 : edit.start])
    if helm is not None:
        if helm.group(1) == "registry":
            return None  # the same block's repository edit reports it
        return WarmJob(edit.before, (source,), None, HELM_PROBLEM, HELM_HINT), []
    if "$" in edit.before:
        return WarmJob(edit.before, (source,), None, VARIABLE_PROBLEM, VARIABLE_HINT), []
    try:
        ref = refs.parse_image(cache_text)
    except InvalidReferenceError:
        return None  # not a whole reference: a part of one rewrite edits separately
    if not mapping.is_cache(ref):
        return None
    return _job(edit.before, cache_text, source, mapping)
