"""Image reference grammar: parse, normalise and format, as distribution/reference does.

Pure. The regular expressions are transcribed from distribution/reference ``regexp.go`` and the
normalisation from ``normalize.go`` (ParseNormalizedNamed, splitDockerDomain, familiarizeName);
digests are checked as opencontainers/go-digest does, for the algorithms OCI registers
(sha256, sha512). tests/data/rewrite/reference_tables.json holds that library's own test tables.

Errors are :class:`ecrcache.errors.InvalidReferenceError` (exit code 2) whose message quotes the
input and says what is wrong, using the library's wording.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ecrcache.errors import InvalidReferenceError

NAME_TOTAL_LENGTH_MAX = 255
DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
LOCALHOST = "localhost"

# regexp.go, piece by piece (Go RE2 and Python re agree on every construct used here).
_ALPHANUMERIC = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_DOMAIN_NAME_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_OPTIONAL_PORT = r"(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}"
_IDENTIFIER = r"([a-f0-9]{64})"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN_NAME = _DOMAIN_NAME_COMPONENT + r"(?:\." + _DOMAIN_NAME_COMPONENT + r")*"
_HOST = r"(?:" + _DOMAIN_NAME + "|" + _IPV6 + ")"
_DOMAIN_AND_PORT = _HOST + _OPTIONAL_PORT
_PATH_COMPONENT = _ALPHANUMERIC + r"(?:" + _SEPARATOR + _ALPHANUMERIC + r")*"
_REMOTE_NAME = _PATH_COMPONENT + r"(?:/" + _PATH_COMPONENT + r")*"
_NAME = r"(?:" + _DOMAIN_AND_PORT + r"/)?" + _REMOTE_NAME

# \w must mean ASCII [0-9A-Za-z_] as in Go, hence re.ASCII throughout.
DOMAIN_RE = re.compile(r"^" + _DOMAIN_AND_PORT + r"\Z", re.ASCII)
ANCHORED_NAME_RE = re.compile(
    r"^(?:(" + _DOMAIN_AND_PORT + r")/)?(" + _REMOTE_NAME + r")\Z", re.ASCII
)
REFERENCE_RE = re.compile(
    r"^(" + _NAME + r")(?::(" + _TAG + r"))?(?:@(" + _DIGEST + r"))?\Z", re.ASCII
)
TAG_RE = re.compile(r"^" + _TAG + r"\Z", re.ASCII)
DIGEST_RE = re.compile(r"^" + _DIGEST + r"\Z", re.ASCII)
IDENTIFIER_RE = re.compile(r"^" + _IDENTIFIER + r"\Z", re.ASCII)

# go-digest: each registered algorithm's hex length. OCI's image-spec registers these two.
DIGEST_HEX_LENGTH = {"sha256": 64, "sha512": 128}
_LOWER_HEX = re.compile(r"^[a-f0-9]+\Z")


@dataclass(frozen=True)
class Reference:
    """A parsed reference. ``domain`` is "" when the name has none (only from :func:`parse`).

    ``tag`` and ``digest`` are kept both when both are given, as the library does.
    """

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        return f"{self.domain}/{self.path}" if self.domain else self.path

    @property
    def suffix(self) -> str:
        """``:tag``, ``@digest``, both or neither, exactly as they are written after the name."""
        return (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    def __str__(self) -> str:
        return self.name + self.suffix

    def with_name(self, domain: str, path: str) -> Reference:
        return Reference(domain, path, self.tag, self.digest)


class _InvalidReference(InvalidReferenceError):
    """Keeps the reason apart from the quoted input, so a caller can report it against another
    spelling of the input without cutting the message apart (the input may hold ": ")."""

    def __init__(self, s: str, reason: str) -> None:
        super().__init__(
            f"invalid image reference {s!r}: {reason}",
            hint="write [registry/]repository[:tag][@digest], e.g. nginx:1.27 or "
            "quay.io/org/app:v1",
        )
        self.reason = reason


def _invalid(s: str, what: str) -> InvalidReferenceError:
    return _InvalidReference(s, what)


def validate_digest(s: str, digest: str) -> None:
    """Check ``digest`` as go-digest's Digest.Validate does (after the reference regexp)."""
    algorithm, _, encoded = digest.partition(":")
    expected = DIGEST_HEX_LENGTH.get(algorithm)
    if expected is None:
        raise _invalid(s, f"unsupported digest algorithm {algorithm!r} (use sha256 or sha512)")
    if len(encoded) != expected:
        raise _invalid(
            s,
            f"invalid checksum digest length: {algorithm} needs {expected} hex digits, "
            f"got {len(encoded)}",
        )
    if not _LOWER_HEX.match(encoded):
        raise _invalid(s, "invalid digest format: the hex digits must be lowercase")


def parse(s: str) -> Reference:
    """Parse ``s`` exactly as the library's ``Parse``: no default domain, no ``library/``."""
    if s == "":
        raise _invalid(s, "repository name must have at least one component")
    m = REFERENCE_RE.match(s)
    if m is None:
        lower = s.lower()
        if lower != s and REFERENCE_RE.match(lower):
            raise _invalid(s, "repository name must be lowercase")
        raise _invalid(s, "invalid reference format")
    name, tag, digest = m.group(1), m.group(2), m.group(3)
    nm = ANCHORED_NAME_RE.match(name)
    domain, path = (nm.group(1) or "", nm.group(2)) if nm else ("", name)
    if len(path) > NAME_TOTAL_LENGTH_MAX:
        raise _invalid(
            s, f"repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"
        )
    if digest is not None:
        validate_digest(s, digest)
    return Reference(domain, path, tag or None, digest)


def split_docker_domain(name: str) -> tuple[str, str]:
    """splitDockerDomain: the registry is the first component only if it has ``.`` or ``:``, is
    ``localhost``, or is not lowercase; otherwise Docker Hub, and one-component names gain
    ``library/``."""
    maybe_domain, slash, maybe_remote = name.partition("/")
    if not slash:
        return DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + name
    if maybe_domain == LOCALHOST:
        domain, remote = maybe_domain, maybe_remote
    elif maybe_domain == LEGACY_DEFAULT_DOMAIN:
        domain, remote = DEFAULT_DOMAIN, maybe_remote
    elif "." in maybe_domain or ":" in maybe_domain or maybe_domain.lower() != maybe_domain:
        domain, remote = maybe_domain, maybe_remote
    else:
        domain, remote = DEFAULT_DOMAIN, name
    if domain == DEFAULT_DOMAIN and "/" not in remote:
        remote = OFFICIAL_REPO_PREFIX + remote
    return domain, remote


def parse_normalized(s: str) -> Reference:
    """ParseNormalizedNamed: a familiar name (``nginx``, ``bitnami/redis:7``) made canonical
    (``docker.io/library/nginx``); the domain is never empty."""
    if IDENTIFIER_RE.match(s):
        raise _invalid(s, "cannot specify 64-byte hexadecimal strings (that is an image ID)")
    domain, remainder = split_docker_domain(s)
    remote = remainder.split(":", 1)[0]
    if remote.lower() != remote:
        raise _invalid(s, f"repository name ({remote}) must be lowercase")
    try:
        ref = parse(f"{domain}/{remainder}")
    except _InvalidReference as exc:
        # Report against what the user wrote, not the expanded form.
        raise _invalid(s, exc.reason) from None
    return ref


def parse_image(s: str) -> Reference:
    """A reference that names an image: ParseAnyReference, refusing what it would read as a
    bare digest or image ID (``sha256:<hex>``, 64 hex digits), then :func:`parse_normalized`."""
    if DIGEST_RE.match(s) and s.partition(":")[0] in DIGEST_HEX_LENGTH:
        raise _invalid(s, "a digest on its own names no image; write repository@digest")
    return parse_normalized(s)


def written_name(s: str, ref: Reference) -> str:
    """The name part of ``s`` as written (``s`` without its tag and digest)."""
    return s[: len(s) - len(ref.suffix)]


def familiar_name(ref: Reference) -> str:
    """familiarizeName: drop ``docker.io`` and a one-level ``library/``."""
    if ref.domain != DEFAULT_DOMAIN:
        return ref.name
    path = ref.path
    if path.startswith(OFFICIAL_REPO_PREFIX) and "/" not in path[len(OFFICIAL_REPO_PREFIX) :]:
        path = path[len(OFFICIAL_REPO_PREFIX) :]
    return path


def familiar_string(ref: Reference) -> str:
    return familiar_name(ref) + ref.suffix
