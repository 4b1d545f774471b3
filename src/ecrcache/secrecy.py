"""Keeping credentials out of what ecrcache prints and logs.

Three tools, all pure: ``looks_like_credential`` (so a token pasted where a variable name or a
path belongs is never echoed back), ``redact_url`` (user:password@ in endpoint URLs), and the
set of secret values read in this process, which ``redact`` removes from any text: the error
boundary and the --debug log handler pass everything they print through it, so an AWS error
message that quotes a value (ValidationException: "Value '...' at 'secretString'...") cannot
leak it.
"""

from __future__ import annotations

import base64
import logging
import math
import re
import threading
from collections import Counter
from urllib.parse import urlsplit, urlunsplit

REDACTED = "(redacted)"

# Prefixes of tokens the upstreams issue (Docker Hub, GitHub, GitLab, Slack, AWS keys, JWTs).
_TOKEN_PREFIX = re.compile(
    r"^(dckr_pat_|dckr_oat_|ghp_|gho_|ghu_|ghs_|ghr_|github_pat_|glpat-|glrt-|xox[abpors]-|"
    r"AKIA[0-9A-Z]{12}|ASIA[0-9A-Z]{12}|eyJ[A-Za-z0-9_-]{8,}\.)"
)
_SEGMENT = re.compile(r"[^\s/\\._:@=,-]+")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")

_known: set[str] = set()
_lock = threading.Lock()


def looks_like_credential(value: str) -> bool:
    """Whether ``value`` looks like a token or key rather than a name or a path.

    True for the token prefixes the upstreams use, and for any long run of characters (between
    separators) that mixes letters and digits with high entropy: names and paths are words,
    tokens are not. A false positive only hides a name from a message.
    """
    text = value.strip()
    if _TOKEN_PREFIX.match(text):
        return True
    for segment in _SEGMENT.findall(text):
        if len(segment) < 16:
            continue
        classes = sum(
            (
                any(c.islower() for c in segment),
                any(c.isupper() for c in segment),
                any(c.isdigit() for c in segment),
            )
        )
        if classes >= 2 and any(c.isdigit() for c in segment) and _entropy(segment) >= 3.0:
            return True
        if classes == 3 and len(segment) >= 20:
            return True
    return False


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def shown(value: str, what: str) -> str:
    """``value`` quoted for a message, or a note that it is withheld because it looks secret."""
    if looks_like_credential(value):
        return f"(the {what} is not shown: it looks like a credential)"
    return repr(value)


def redact_url(url: str) -> str:
    """``url`` with any user:password@ replaced, so an endpoint can be named in messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _USERINFO.sub(rf"\1{REDACTED}@", url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{REDACTED}@{host}"))


def remember(value: str) -> None:
    """Mark ``value`` as secret for this process: ``redact`` removes it, and its base64 and
    hex forms, from any text. Short values are skipped (they would blot out ordinary words)."""
    value = value.strip()
    if len(value) < 8:
        return
    raw = value.encode()
    forms = {value, raw.hex(), base64.b64encode(raw).decode().rstrip("=")}
    with _lock:
        _known.update(forms)


def redact(text: str) -> str:
    """``text`` without any remembered secret value or URL credentials."""
    if not text:
        return text
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, REDACTED)
    return _USERINFO.sub(rf"\1{REDACTED}@", text) if "@" in text else text


class RedactingFilter(logging.Filter):
    """A log handler filter that passes every record's final text through ``redact``."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True
