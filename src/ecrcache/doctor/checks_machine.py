"""Checks of this machine: the docker CLI and its login, Docker and containerd mirrors."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime

from ecrcache.doctor import files
from ecrcache.doctor.env import Env
from ecrcache.doctor.model import (
    Finding,
    Fix,
    Severity,
    check,
    passed,
    problem,
    skipped,
    warning,
)

INSTALL_DOCKER = "https://docs.docker.com/engine/install/"


@check(
    "docker.cli",
    "docker CLI installed",
    Severity.WARNING,
    why="`ecrcache login` and `test-pull --docker` use it; without it this machine pulls "
    "only through other clients",
)
def docker_cli(env: Env) -> Finding:
    exe = env.paths.which("docker")
    if exe is None:
        return problem(
            "docker is not on PATH",
            Fix(
                f"install the Docker CLI ({INSTALL_DOCKER}), or ignore this on machines that "
                "pull with containerd or kubelet only"
            ),
        )
    return passed(f"docker at {exe}")


def _helper_hosts(env: Env, exe: str) -> set[str] | None:
    """Hosts a docker-credential helper holds (``list`` prints URL → username, no secrets)."""
    from ecrcache.registry.dockerconfig import hostname

    try:
        done = env.paths.run([exe, "list"], capture_output=True, timeout=env.timeout, check=False)
        doc = json.loads(done.stdout or b"{}")
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None
    return {hostname(k) for k in doc} if isinstance(doc, dict) else None


@check(
    "docker.login",
    "Docker logged in to the registry",
    Severity.WARNING,
    why="docker pulls through the cache need a current login (tokens last 12 hours) or the "
    "ECR credential helper",
)
def docker_login(env: Env) -> Finding:
    from ecrcache.errors import AwsError
    from ecrcache.registry.dockerconfig import DockerConfigError, hostname, read_config

    try:
        host = env.registry_host()
    except (AwsError, RuntimeError):
        return skipped("the registry is not known without an account (see creds.identity)")
    path = env.paths.docker_config
    login = Fix(
        "log in (a token lasts 12 hours), or let the ECR credential helper fetch tokens: "
        f'"credHelpers": {{"{host}": "ecr-login"}} in {path}',
        (env.commands.ecrcache("login"),),
    )
    try:
        doc = read_config(path)
    except DockerConfigError as exc:
        return problem(exc.message, Fix(exc.hint or f"repair {path}"))
    helpers = doc.get("credHelpers") or {}
    helper = next((v for k, v in helpers.items() if hostname(k) == host), None)
    if helper:
        exe = f"docker-credential-{helper}"
        if env.paths.which(exe) is None:
            return problem(
                f"credHelpers sends {host} to {exe}, which is not on PATH",
                Fix(
                    "install it (Debian/Ubuntu: amazon-ecr-credential-helper), or drop the "
                    "mapping and log in",
                    (env.commands.ecrcache("login"),),
                ),
            )
        return passed(f"{path}: credHelpers sends {host} to {exe} (tokens on demand)")
    store = doc.get("credsStore")
    if store:
        exe = f"docker-credential-{store}"
        if env.paths.which(exe) is None:
            return problem(f"credsStore {store!r}: {exe} is not on PATH", login)
        hosts = _helper_hosts(env, exe)
        if hosts is None:
            return warning(f"{exe} did not list its logins; cannot tell", login)
        if host in hosts:
            return passed(f"{exe} holds a login for {host} (its expiry is not visible)")
        return problem(f"no login for {host} in {exe}", login)
    auths = doc.get("auths") or {}
    entry = next((v for k, v in auths.items() if hostname(k) == host), None)
    decoded = files.decode_auth(str((entry or {}).get("auth") or ""))
    if decoded is None:
        return problem(f"no login for {host} in {path}", login)
    expiry = files.ecr_token_expiry(decoded[1])
    decoded = None  # drop the password at once
    if expiry is None:
        return passed(f"{path} has a login for {host} (not an ECR token: expiry unknown)")
    if expiry <= datetime.now(UTC):
        return problem(f"the login for {host} expired at {expiry:%Y-%m-%d %H:%M} UTC", login)
    return passed(f"{path} has a login for {host}, valid until {expiry:%Y-%m-%d %H:%M} UTC")


@check(
    "docker.mirror",
    "No Docker daemon mirror pointing at ECR",
    Severity.ERROR,
    why="dockerd sends no credentials to a mirror and cannot add the cache prefix: pulls "
    "silently fall back to Docker Hub and its rate limits",
)
def docker_mirror(env: Env) -> Finding:
    path = env.paths.daemon_json
    try:
        mirrors = files.daemon_mirrors(path)
    except ValueError as exc:
        return problem(
            f"{path}: not valid JSON ({exc})", Fix(f"repair {path}; dockerd will not start")
        )
    if mirrors is None:
        return skipped(f"no {path} on this machine")
    ecr = [m for m in mirrors if files.is_ecr(m)]
    if not ecr:
        return passed(f"{path}: {len(mirrors)} mirror(s), none at ECR")
    return problem(
        f"{path} mirrors Docker Hub through ECR: {', '.join(ecr)}",
        Fix(
            f'remove {", ".join(ecr)} from "registry-mirrors" in {path}, restart dockerd, and '
            "reference images through the cache instead (`ecrcache rewrite`)",
            ("sudo systemctl restart docker",),
        ),
    )


@check(
    "containerd.mirror",
    "containerd mirrors at ECR have the prefix and credentials",
    Severity.ERROR,
    why="containerd sends credentials only to the image's own registry, not to a mirror host: "
    "without its own, ECR answers 401 and the pull falls back to the upstream",
)
def containerd_mirror(env: Env) -> Finding:
    certs = env.paths.containerd_certs
    if not certs.is_dir():
        return skipped(f"no {certs} on this machine")
    try:
        hosts_files, hosts = files.mirror_hosts(certs)
    except ValueError as exc:
        return problem(str(exc), Fix("repair the file; containerd ignores it"))
    ecr = [h for h in hosts if files.is_ecr(h.url)]
    if not ecr:
        return passed(f"{len(hosts_files)} hosts.toml file(s), none points at ECR")
    with_auth = files.containerd_auth_hosts(env.paths.containerd_config)
    via_kubelet = _kubelet_covered(env, {h.namespace for h in ecr})
    broken, static = [], []
    prefixes = set(env.config.rules) if env.config is not None else set()
    for h in ecr:
        why = []
        segments = h.path.strip("/").split("/")
        if not h.override_path or segments[:1] != ["v2"] or len(segments) < 2:
            why.append('needs a "/v2/<cache prefix>" path and override_path = true')
        elif prefixes and "/".join(segments[1:]) not in prefixes:
            why.append(f"path prefix {'/'.join(segments[1:])!r} is not a rule in the config")
        if not h.has_auth_header and h.host not in with_auth:
            if h.namespace not in via_kubelet:
                why.append("no credentials for this host")
        elif not why:
            static.append(f"{h.file}: {h.url} uses static credentials")
        if why:
            broken.append((h, "; ".join(why)))
    if broken:
        return problem(
            f"{len(broken)} mirror(s) at ECR cannot serve pulls",
            Fix(
                'remove these [host."..."] tables and reference images through the cache '
                "instead (`ecrcache rewrite`); a mirror needs credentials for the ECR host "
                "refreshed within 12 hours",
                ("sudo systemctl restart containerd",),
            ),
            *(f'{h.file}: [host."{h.url}"] ({h.namespace}): {w}' for h, w in broken),
        )
    if static:
        return warning(
            "ECR mirrors use static credentials: ECR tokens expire after 12 hours",
            Fix("refresh them at least every 12 hours, or reference images through the cache"),
            *static,
        )
    return passed(
        f"{len(ecr)} ECR mirror(s) with prefix and credentials",
        *(
            f"{ns}: credentials from kubelet's credential provider (CRI pulls)"
            for ns in sorted(via_kubelet)
        ),
    )


def _kubelet_covered(env: Env, namespaces: set[str]) -> set[str]:
    """Namespaces kubelet's ecr-credential-provider gets ECR tokens for: CRI pulls then carry
    them to the mirror too (node/credprovider.py says why), so such a mirror has credentials."""
    from ecrcache.doctor.node_files import read_provider_config
    from ecrcache.node import credprovider

    etc = env.paths.containerd_config.parent.parent  # <root>/etc
    covered: set[str] = set()
    for name in ("ecrcache-config.json", "config.json"):
        try:
            doc = read_provider_config(etc / "eks/image-credential-provider" / name)
        except ValueError:
            continue
        for p in (doc or {}).get("providers") or []:
            if isinstance(p, dict) and p.get("name") == credprovider.PROVIDER:
                patterns = [str(x) for x in p.get("matchImages") or []]
                covered |= {
                    n for n in namespaces if any(credprovider.matches(x, n) for x in patterns)
                }
    return covered


CHECKS = (docker_cli, docker_login, docker_mirror, containerd_mirror)
