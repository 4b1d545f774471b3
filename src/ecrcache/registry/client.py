"""HTTP client for the OCI distribution API over one kept-alive urllib3 PoolManager.

Thread-safe: blob downloads from several threads share the pool (``block=True`` caps the open
connections at ``max_connections`` and makes threads wait for a free one instead of opening more).
Redirects are followed by hand so that the Authorization header never leaves the registry's
origin: ECR answers blob GETs with a 307 to a pre-signed S3 URL, which must get no credentials.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import urllib3
from urllib3.exceptions import HTTPError, MaxRetryError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from ecrcache import __version__
from ecrcache.registry.auth import Challenge, Credentials, parse_challenge, pull_scope
from ecrcache.registry.digest import Digest
from ecrcache.registry.errors import (
    DigestMismatchError,
    RegistryAuthError,
    RegistryError,
    RegistryNotFoundError,
    RegistryRateLimitError,
    RegistryTimeoutError,
)
from ecrcache.registry.manifest import ACCEPT, Descriptor, Manifest, parse_manifest

log = logging.getLogger(__name__)

CHUNK = 1 << 20
MAX_REDIRECTS = 5
MAX_MANIFEST_BYTES = 4 << 20  # the limit ECR and the distribution registry both apply
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Docker Hub reports its pull limit in these (https://docs.docker.com/docker-hub/usage/pulls/).
_RATE_HEADERS = ("ratelimit-limit", "ratelimit-remaining", "docker-ratelimit-source", "retry-after")

Response = urllib3.BaseHTTPResponse


@dataclass(frozen=True)
class Ping:
    url: str
    api_version: str | None
    auth_scheme: str | None  # the scheme the registry challenged with, if it did


@dataclass(frozen=True)
class BlobResult:
    digest: Digest
    size: int
    path: Path | None  # None when downloaded only to verify (dest=None)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, f"{parts.hostname}:{parts.port or default}"


class RegistryClient:
    """One registry (``https://host`` or ``http://127.0.0.1:port``), optionally with credentials."""

    def __init__(
        self,
        base_url: str,
        *,
        credentials: Credentials | None = None,
        timeout: float = 60.0,
        connect_timeout: float = 10.0,
        max_connections: int = 8,
        pool: urllib3.PoolManager | None = None,
    ) -> None:
        if "://" not in base_url:
            base_url = "https://" + base_url
        self.base_url = base_url.rstrip("/")
        self._origin = _origin(self.base_url)
        self.credentials = credentials
        self._timeout = urllib3.Timeout(connect=connect_timeout, read=timeout)
        # Only connection failures are retried here: reads may not be idempotent (uploads).
        self._retries = urllib3.Retry(
            total=None, connect=2, read=0, status=0, other=0, redirect=False
        )
        self._pool = pool or urllib3.PoolManager(num_pools=4, maxsize=max_connections, block=True)
        self._lock = threading.Lock()
        self._scheme: str | None = None  # "basic" or "bearer", learnt from the first challenge
        self._tokens: dict[str, str] = {}  # bearer tokens by scope

    def close(self) -> None:
        self._pool.clear()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- API ------------------------------------------------------------------------------

    def ping(self) -> Ping:
        """GET /v2/, authenticating if challenged. Raises on anything but success."""
        resp = self._send("GET", "/v2/", scope="")
        self._check(resp, "GET /v2/")
        return Ping(
            url=self.base_url,
            api_version=resp.headers.get("Docker-Distribution-API-Version"),
            auth_scheme=self._scheme,
        )

    def get_manifest(self, repository: str, reference: str) -> Manifest:
        """Fetch a manifest of any supported type, verifying its digest.

        By digest: the bytes must hash to it. By tag: they must hash to Docker-Content-Digest
        when the registry sends it.
        """
        path = f"/v2/{repository}/manifests/{reference}"
        resp = self._send("GET", path, scope=pull_scope(repository), headers={"Accept": ACCEPT})
        self._check(resp, f"GET {path}")
        raw = resp.data
        if len(raw) > MAX_MANIFEST_BYTES:
            raise RegistryError(f"manifest {repository}:{reference} is larger than 4 MiB")
        expected = reference if ":" in reference else resp.headers.get("Docker-Content-Digest")
        if expected:
            digest = Digest.parse(expected)
            digest.check(digest.hasher_of(raw), what=f"manifest {repository}@{reference}")
        else:
            digest = Digest.of(raw)
        return parse_manifest(raw, content_type=resp.headers.get("Content-Type"), digest=digest)

    def blob_exists(self, repository: str, digest: Digest) -> bool:
        path = f"/v2/{repository}/blobs/{digest}"
        resp = self._send("HEAD", path, scope=pull_scope(repository))
        if resp.status == 404:
            return False
        self._check(resp, f"HEAD {path}")
        return True

    def download_blob(
        self, repository: str, blob: Descriptor | Digest, *, dest: Path | None = None
    ) -> BlobResult:
        """Stream a blob in chunks while hashing it; write it to ``dest/<hex>`` if given.

        The file appears only once the digest (and the descriptor's size) has been verified;
        on a mismatch nothing is left behind and DigestMismatchError is raised.
        """
        digest = blob.digest if isinstance(blob, Descriptor) else blob
        size = blob.size if isinstance(blob, Descriptor) else None
        path = f"/v2/{repository}/blobs/{digest}"
        what = f"blob {repository}@{digest}"
        resp = self._send("GET", path, scope=pull_scope(repository), preload=False)
        final = dest / digest.hex if dest is not None else None
        partial = dest / f"{digest.hex}.partial" if dest is not None else None
        try:
            self._check(resp, f"GET {path}")
            hasher, received = digest.hasher(), 0
            with open(partial, "wb") if partial else _NullWriter() as out:
                for chunk in resp.stream(CHUNK, decode_content=False):
                    received += len(chunk)
                    if size is not None and received > size:
                        break  # never read more than was promised
                    hasher.update(chunk)
                    out.write(chunk)
            if size is not None and received != size:
                raise DigestMismatchError(f"{what}: got {received}+ bytes, expected {size}")
            digest.check(hasher.hexdigest(), what=what)
            if partial and final:
                os.replace(partial, final)
        except HTTPError as exc:
            resp.close()
            raise _transport_error(exc, what) from exc
        except BaseException:
            resp.close()  # the connection may hold unread bytes: do not reuse it
            raise
        finally:
            if partial and partial.exists():
                partial.unlink()
            resp.release_conn()
        return BlobResult(digest, received, final)

    def push_blob(self, repository: str, data: bytes) -> Digest:
        """Upload a blob in one monolithic PUT (POST for a session, then PUT with the digest)."""
        digest = Digest.of(data)
        scope = pull_scope(repository, "pull,push")
        if self.blob_exists(repository, digest):
            return digest
        start = f"/v2/{repository}/blobs/uploads/"
        resp = self._send("POST", start, scope=scope, headers={"Content-Length": "0"})
        self._check(resp, f"POST {start}")
        location = resp.headers.get("Location")
        if not location:
            raise RegistryError(f"POST {start}: no upload Location in the response")
        url = urljoin(self.base_url + start, location)
        url += ("&" if "?" in url else "?") + urlencode({"digest": str(digest)})
        resp = self._send(
            "PUT", url, scope=scope, body=data, headers={"Content-Type": "application/octet-stream"}
        )
        self._check(resp, f"PUT blob {digest}")
        return digest

    def push_manifest(self, repository: str, reference: str, raw: bytes, media_type: str) -> Digest:
        path = f"/v2/{repository}/manifests/{reference}"
        resp = self._send(
            "PUT",
            path,
            scope=pull_scope(repository, "pull,push"),
            body=raw,
            headers={"Content-Type": media_type},
        )
        self._check(resp, f"PUT {path}")
        return Digest.of(raw)

    # -- transport ------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path_or_url: str,
        *,
        scope: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        preload: bool = True,
    ) -> Response:
        url = path_or_url if "://" in path_or_url else self.base_url + path_or_url
        hdrs = {"User-Agent": f"ecrcache/{__version__}", **(headers or {})}
        for attempt in (1, 2):
            auth = self._authorization(scope)
            if auth:
                hdrs["Authorization"] = auth
            resp, final_url = self._follow(method, url, hdrs, body, preload)
            if resp.status != 401 or attempt == 2 or _origin(final_url) != self._origin:
                return resp
            challenge = parse_challenge(resp.headers.get("WWW-Authenticate"))
            if not self._authenticate(challenge, scope, sent=auth):
                return resp
            resp.drain_conn()
            resp.release_conn()
        raise AssertionError("unreachable")

    def _follow(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None, preload: bool
    ) -> tuple[Response, str]:
        hdrs = dict(headers)
        for _ in range(MAX_REDIRECTS + 1):
            try:
                resp = self._pool.request(
                    method,
                    url,
                    headers=hdrs,
                    body=body,
                    preload_content=preload,
                    decode_content=False,
                    redirect=False,
                    retries=self._retries,
                    timeout=self._timeout,
                )
            except HTTPError as exc:
                raise _transport_error(exc, f"{method} {_redact(url)}") from exc
            location = resp.headers.get("Location")
            if resp.status not in _REDIRECTS or not location:
                return resp, url
            resp.drain_conn()
            resp.release_conn()
            url = urljoin(url, location)
            if _origin(url) != self._origin:
                # Credentials are for the registry only; a pre-signed URL carries its own.
                hdrs.pop("Authorization", None)
            if resp.status == 303:
                method, body = "GET", None
            log.debug("redirected to %s", _redact(url))
        raise RegistryError(f"{method} {_redact(url)}: more than {MAX_REDIRECTS} redirects")

    def _authorization(self, scope: str) -> str | None:
        with self._lock:
            if self._scheme == "basic" and self.credentials:
                return self.credentials.basic_header()
            if self._scheme == "bearer":
                token = self._tokens.get(scope)
                return f"Bearer {token}" if token else None
        return None

    def _authenticate(self, challenge: Challenge | None, scope: str, *, sent: str | None) -> bool:
        """Learn from a 401 challenge; True when a retry may now succeed."""
        if challenge is None:
            return False
        if challenge.scheme == "basic":
            with self._lock:
                self._scheme = "basic"
            return self.credentials is not None and not (sent or "").startswith("Basic ")
        if challenge.scheme == "bearer" and challenge.realm:
            token = self._fetch_token(challenge, scope)
            with self._lock:
                self._scheme = "bearer"
                self._tokens[scope] = token
            return True
        return False

    def _fetch_token(self, challenge: Challenge, scope: str) -> str:
        realm = challenge.realm or ""
        query = {k: v for k, v in challenge.params.items() if k in ("service", "scope") and v}
        if scope and "scope" not in query:
            query["scope"] = scope
        url = realm + (("&" if "?" in realm else "?") + urlencode(query) if query else "")
        hdrs = {"User-Agent": f"ecrcache/{__version__}"}
        if self.credentials:
            hdrs["Authorization"] = self.credentials.basic_header()
        try:
            resp = self._pool.request(
                "GET", url, headers=hdrs, retries=self._retries, timeout=self._timeout
            )
        except HTTPError as exc:
            raise _transport_error(exc, f"token request to {_redact(realm)}") from exc
        self._check(resp, f"token request to {_redact(realm)}")
        try:
            doc = json.loads(resp.data)
            token = doc.get("token") or doc.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise RegistryAuthError(f"token server {_redact(realm)} returned no token")
        return token

    def _check(self, resp: Response, what: str) -> None:
        """Raise the error class that fits a non-2xx response; the message names the request."""
        if 200 <= resp.status < 300:
            return
        status = resp.status
        detail = _error_detail(resp)
        resp.release_conn()
        message = f"{what}: HTTP {status}{': ' + detail if detail else ''}"
        if status == 401:
            hint = (
                "the credentials were refused; for ECR, log in again (tokens last 12 hours)"
                if self.credentials
                else "this registry needs credentials"
            )
            raise RegistryAuthError(message, hint=hint, status=status)
        if status == 403:
            raise RegistryAuthError(
                message,
                hint="the credentials are valid but lack permission (for ECR, check "
                "ecr:BatchGetImage / ecr:GetDownloadUrlForLayer and, for a first pull "
                "through the cache, ecr:BatchImportUpstreamImage and ecr:CreateRepository)",
                status=status,
            )
        if status == 404:
            raise RegistryNotFoundError(message, status=status)
        if status == 429:
            limits = ", ".join(
                f"{h}: {resp.headers[h]}" for h in _RATE_HEADERS if resp.headers.get(h)
            )
            raise RegistryRateLimitError(
                message + (f" ({limits})" if limits else ""),
                hint="the registry is rate limiting; wait, or pull through the ECR cache with "
                "upstream credentials (Docker Hub limits anonymous pulls hardest)",
                status=status,
            )
        raise RegistryError(message, status=status)


class _NullWriter:
    def write(self, data: bytes) -> int:
        return len(data)

    def __enter__(self) -> _NullWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _error_detail(resp: Response) -> str:
    """The first ``errors[].code: message`` of an OCI error body, else a short text snippet."""
    try:
        body = resp.data[:65536] if resp.data is not None else b""
    except HTTPError:
        return ""
    try:
        errors: Any = json.loads(body).get("errors") or []
        first = errors[0]
        return f"{first.get('code', '')}: {first.get('message', '')}".strip(": ")
    except (ValueError, AttributeError, IndexError, TypeError):
        return body[:200].decode("utf-8", "replace").strip()


def _transport_error(exc: Exception, what: str) -> RegistryError:
    reason = exc.reason if isinstance(exc, MaxRetryError) and exc.reason else exc
    if isinstance(reason, Urllib3Timeout):
        return RegistryTimeoutError(
            f"{what}: timed out",
            hint="check the network path to the registry (proxy, VPC endpoint, security group)",
        )
    return RegistryError(f"{what}: {type(reason).__name__}: {reason}")


def _redact(url: str) -> str:
    """Drop the query: pre-signed URLs carry credentials in it."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
