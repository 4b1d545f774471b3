"""Test support: real distribution registries on loopback, and multi-arch test images.

Imported by the registry tests and by benchmarks/bench_pull_vs_skopeo.py. The registry binary is
Debian's ``docker-registry`` (distribution v2.8); htpasswd needs bcrypt, which comes from the
``bcrypt`` package when installed, else from the system's libxcrypt (libcrypt1, always present on
Debian) through ctypes, so no extra package is needed.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gzip
import hashlib
import io
import json
import os
import secrets
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import urllib3

from ecrcache.registry import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_INDEX,
    OCI_MANIFEST,
    Credentials,
    Digest,
    Platform,
    RegistryClient,
)

USER = "tester"
PASSWORD = "s3cret-" + secrets.token_hex(4)


def registry_binary() -> str | None:
    return shutil.which("docker-registry") or (
        "/usr/bin/docker-registry" if os.access("/usr/bin/docker-registry", os.X_OK) else None
    )


def bcrypt_hash(password: str) -> str:
    """A bcrypt hash for htpasswd (the only scheme the distribution registry accepts)."""
    try:
        import bcrypt  # type: ignore[import-not-found]

        return str(bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode())
    except ImportError:
        pass
    lib = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    salt = lib.crypt_gensalt(b"$2b$", 5, None, 0)
    hashed = lib.crypt(password.encode(), salt) if salt else None
    if not hashed or not hashed.startswith(b"$2"):
        raise RuntimeError("no bcrypt available (install the bcrypt package)")
    return str(hashed.decode())


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class RegistryServer:
    """A running docker-registry process; ``root`` is its filesystem storage."""

    url: str
    root: Path
    process: subprocess.Popen[bytes]
    credentials: Credentials | None

    def client(self, **kw: object) -> RegistryClient:
        return RegistryClient(self.url, credentials=self.credentials, **kw)  # type: ignore[arg-type]

    def blob_path(self, digest: Digest) -> Path:
        base = self.root / "docker/registry/v2/blobs" / digest.algorithm / digest.hex[:2]
        return base / digest.hex / "data"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def run_registry(
    workdir: Path,
    *,
    auth: bool = True,
    proxy_of: RegistryServer | None = None,
) -> Iterator[RegistryServer]:
    """Start docker-registry on 127.0.0.1 and a free port; stop it on exit."""
    binary = registry_binary()
    if binary is None:
        raise RuntimeError("docker-registry is not installed")
    workdir.mkdir(parents=True, exist_ok=True)
    root = workdir / "storage"
    port = free_port()
    lines = [
        "version: 0.1",
        "log: {level: error, accesslog: {disabled: true}}",
        f"storage: {{filesystem: {{rootdirectory: {root}}}, delete: {{enabled: true}}}}",
        f"http: {{addr: '127.0.0.1:{port}', secret: {secrets.token_hex(8)}}}",
    ]
    if auth:
        (workdir / "htpasswd").write_text(f"{USER}:{bcrypt_hash(PASSWORD)}\n")
        lines.append(f"auth: {{htpasswd: {{realm: test, path: {workdir / 'htpasswd'}}}}}")
    if proxy_of is not None:
        creds = proxy_of.credentials
        lines.append("proxy:")
        lines.append(f"  remoteurl: {proxy_of.url}")
        if creds:
            lines += [f"  username: {creds.username}", f"  password: {creds.password}"]
    config = workdir / "config.yml"
    config.write_text("\n".join(lines) + "\n")
    log = open(workdir / "registry.log", "wb")  # noqa: SIM115 - lives as long as the process
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    proc = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=log, env=env)
    server = RegistryServer(
        url=f"http://127.0.0.1:{port}",
        root=root,
        process=proc,
        credentials=Credentials(USER, PASSWORD) if auth else None,
    )
    try:
        _wait_until_up(server, workdir / "registry.log")
        yield server
    finally:
        server.stop()
        log.close()


def _wait_until_up(server: RegistryServer, logfile: Path) -> None:
    http = urllib3.PoolManager()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {logfile.read_text()[-2000:]}")
        try:
            if http.request("GET", server.url + "/v2/", retries=False, timeout=1).status in (
                200,
                401,
            ):
                return
        except urllib3.exceptions.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("docker-registry did not start within 20 s")


@contextlib.contextmanager
def registry_pair(workdir: Path | None = None) -> Iterator[tuple[RegistryServer, RegistryServer]]:
    """An upstream registry and a pull-through proxy with basic auth in front of it.

    The upstream has no auth: distribution v2.8's proxy only authenticates upstream with the
    token flow (as Docker Hub uses), never with Basic, so an htpasswd upstream is unreachable.
    """
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ecrreg-")))
        upstream = stack.enter_context(run_registry(workdir / "upstream", auth=False))
        proxy = stack.enter_context(run_registry(workdir / "proxy", proxy_of=upstream))
        yield upstream, proxy


# -- test images ---------------------------------------------------------------------------


@dataclass
class Image:
    """One platform's image: the exact bytes pushed, so tests can compare what they pull."""

    platform: Platform
    media_type: str
    config: bytes
    layers: list[bytes]
    manifest: bytes = field(repr=False)

    @property
    def digest(self) -> Digest:
        return Digest.of(self.manifest)

    @property
    def blobs(self) -> dict[str, bytes]:
        out = {str(Digest.of(self.config)): self.config}
        out.update({str(Digest.of(b)): b for b in self.layers})
        return out


@dataclass
class MultiArch:
    images: list[Image]
    index_media_type: str
    index: bytes = field(repr=False)

    @property
    def digest(self) -> Digest:
        return Digest.of(self.index)

    def for_platform(self, platform: str) -> Image:
        want = Platform.parse(platform)
        return next(i for i in self.images if want.matches(i.platform))


def make_layer(size: int, *, compresslevel: int = 1) -> tuple[bytes, str]:
    """A gzip'd tar with one file of ``size`` random bytes; returns (blob, diff_id)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo(f"data/{secrets.token_hex(4)}.bin")
        info.size = size
        tar.addfile(info, io.BytesIO(os.urandom(size)))
    tar_bytes = raw.getvalue()
    blob = gzip.compress(tar_bytes, compresslevel=compresslevel, mtime=0)
    return blob, "sha256:" + hashlib.sha256(tar_bytes).hexdigest()


def make_image(
    platform: str, layer_sizes: list[int], *, oci: bool = True, compresslevel: int = 1
) -> Image:
    plat = Platform.parse(platform)
    made = [make_layer(n, compresslevel=compresslevel) for n in layer_sizes]
    config_doc: dict[str, object] = {
        "architecture": plat.architecture,
        "os": plat.os,
        "rootfs": {"type": "layers", "diff_ids": [d for _, d in made]},
        "config": {"Env": ["PATH=/usr/bin"]},
    }
    if plat.variant:
        config_doc["variant"] = plat.variant
    config = json.dumps(config_doc, sort_keys=True).encode()
    layer_type = (
        "application/vnd.oci.image.layer.v1.tar+gzip"
        if oci
        else "application/vnd.docker.image.rootfs.diff.tar.gzip"
    )
    config_type = (
        "application/vnd.oci.image.config.v1+json"
        if oci
        else "application/vnd.docker.container.image.v1+json"
    )
    media_type = OCI_MANIFEST if oci else DOCKER_MANIFEST
    manifest = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": _desc(config_type, config),
        "layers": [_desc(layer_type, blob) for blob, _ in made],
    }
    return Image(plat, media_type, config, [b for b, _ in made], _dump(manifest))


def make_multiarch(
    platforms: list[str], layer_sizes: list[int], *, oci: bool = True, compresslevel: int = 1
) -> MultiArch:
    images = [make_image(p, layer_sizes, oci=oci, compresslevel=compresslevel) for p in platforms]
    index_type = OCI_INDEX if oci else DOCKER_MANIFEST_LIST
    entries = []
    for img in images:
        entry = _desc(img.media_type, img.manifest)
        entry["platform"] = {"architecture": img.platform.architecture, "os": img.platform.os}
        if img.platform.variant:
            entry["platform"]["variant"] = img.platform.variant
        entries.append(entry)
    index = {"schemaVersion": 2, "mediaType": index_type, "manifests": entries}
    return MultiArch(images, index_type, _dump(index))


def push_multiarch(client: RegistryClient, repository: str, tag: str, image: MultiArch) -> None:
    """Push every blob and per-platform manifest (by digest), then the index under ``tag``."""
    for img in image.images:
        for blob in img.blobs.values():
            client.push_blob(repository, blob)
        client.push_manifest(repository, str(img.digest), img.manifest, img.media_type)
    client.push_manifest(repository, tag, image.index, image.index_media_type)


def _desc(media_type: str, data: bytes) -> dict[str, object]:
    return {"mediaType": media_type, "digest": str(Digest.of(data)), "size": len(data)}


def _dump(doc: object) -> bytes:
    return json.dumps(doc, indent=2).encode()
