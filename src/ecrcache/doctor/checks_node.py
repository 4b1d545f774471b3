"""``doctor --node``: a node (or a copy of its filesystem under ``--root``) against the config:
containerd and its config, the hosts.toml files, the fallback, the kubelet credential provider.

Why each matters is in its ``why``; the sources are in ``ecrcache/node/`` (the generator these
checks mirror). Every file is read under ``env.root``; programs (containerd, the credential
provider) are run only when checking the machine itself (``--root /``).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from ecrcache.doctor import node_files
from ecrcache.doctor.env import Env
from ecrcache.doctor.model import (
    Finding,
    Fix,
    Need,
    Severity,
    check,
    passed,
    problem,
    skipped,
    warning,
)
from ecrcache.node import containerd, credprovider
from ecrcache.node.mirrors import MirrorPlan, plan_mirrors

CONFIG = (Need.CONFIG,)
DEFAULT_CERTS = containerd.CERTS_DIR
NODEADM_PROVIDER_CONFIG = "/etc/eks/image-credential-provider/config.json"
PROVIDER_BINARY = "/etc/eks/image-credential-provider/ecr-credential-provider"


def _plan(env: Env) -> MirrorPlan:
    config = env.require_config()
    account = config.account_id
    if account is None:
        if env.clients is None:
            from ecrcache.errors import UsageError

            raise UsageError(
                "no account: the config has no account_id and AWS is not reachable",
                hint='add account_id = "123456789012" to the config',
            )
        account = env.live.account_id
    return plan_mirrors(config, account_id=account, region=env.region or config.region)


def _regenerate(env: Env) -> Fix:
    return Fix(
        "write the files ecrcache generates for this config onto the node (or into its user "
        "data), then restart containerd",
        (env.commands.ecrcache("node-config", "--out", "/"),),
    )


def _on_machine(env: Env) -> bool:
    return env.root.resolve() == Path("/")


def _containerd_version(env: Env) -> tuple[int, ...] | None:
    if not _on_machine(env):
        return None
    exe = env.paths.which("containerd")
    if exe is None:
        return None
    try:
        done = env.paths.run([exe, "--version"], capture_output=True, timeout=env.timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return credprovider.parse_version(done.stdout.decode(errors="replace"))


def _config(env: Env) -> node_files.ContainerdConfig | None:
    return node_files.read_containerd_config(env.root)


def _where(env: Env, path: str | Path) -> str:
    """A node path as the user finds it: inside --root when one was given."""
    return str(path) if _on_machine(env) else str(node_files.under(env.root, str(path)))


@check(
    "node.containerd",
    "containerd version and config version",
    Severity.ERROR,
    why="hosts.toml needs containerd 1.5 or later; containerd 2 reads config version 2 or 3, "
    "containerd 1.x not version 3: a file it cannot read leaves mirrors unused",
    needs=CONFIG,
)
def node_containerd(env: Env) -> Finding:
    try:
        cfg = _config(env)
    except ValueError as exc:
        return problem(str(exc), Fix("repair the file: containerd will not start"))
    path = _where(env, "/" + node_files.CONFIG_TOML)
    if cfg is None:
        return problem(
            f"no {path}: containerd runs on its defaults, which read no hosts.toml",
            Fix(
                f"create {path} with the fragment below (`ecrcache node-config` writes it), "
                "then restart containerd",
                config=containerd.config_fragment(3),
            ),
        )
    version = _containerd_version(env)
    shown = ".".join(map(str, version)) if version else "version not checked (--root)"
    if version is not None and version < (1, 5):
        return problem(
            f"containerd {shown} predates hosts.toml (1.5)",
            Fix("upgrade containerd to 1.7 or 2.x"),
        )
    if version is not None and version >= (2, 0) and cfg.version < 2:
        return problem(
            f"containerd {shown} does not read config version {cfg.version}",
            Fix(f"rewrite {path} as version 3 (`containerd config migrate`)"),
        )
    if version is not None and version < (2, 0) and cfg.version >= 3:
        return problem(
            f"containerd {shown} cannot read config version {cfg.version}",
            Fix(
                "use config version 2 on containerd 1.x",
                (env.commands.ecrcache("node-config", "--containerd-config", "2"),),
            ),
        )
    return passed(
        f"containerd {shown}; config version {cfg.version}",
        *(f"read {f}" for f in cfg.files),
    )


def _config_dirs(cfg: node_files.ContainerdConfig) -> list[str] | None:
    table = node_files.V3_IMAGES if cfg.version >= 3 else node_files.V2_CRI
    value = cfg.registry(table).get("config_path")
    return [d for d in str(value).split(":") if d] if value else None


@check(
    "node.config_path",
    "config_path set in the CRI table, naming the hosts.toml directory",
    Severity.ERROR,
    why="the CRI plugin reads hosts.toml only from the config_path of its own table "
    "(version 2: io.containerd.grpc.v1.cri, version 3: io.containerd.cri.v1.images); anywhere "
    "else containerd pulls from the upstream without a word",
    needs=CONFIG,
    after=("node.containerd",),
)
def node_config_path(env: Env) -> Finding:
    cfg = _config(env)
    assert cfg is not None  # node.containerd passed
    right = node_files.V3_IMAGES if cfg.version >= 3 else node_files.V2_CRI
    wrong = node_files.V2_CRI if right == node_files.V3_IMAGES else node_files.V3_IMAGES
    fix = Fix(
        f"set config_path in plugins.'{right}'.registry (config version {cfg.version}), then "
        "restart containerd",
        config=containerd.config_fragment(3 if cfg.version >= 3 else 2),
    )
    registry = cfg.registry(right)
    if registry.get("mirrors") and registry.get("config_path"):
        return problem(
            f"plugins.'{right}'.registry has both mirrors and config_path: the CRI plugin "
            "refuses to load (containerd#12612)",
            Fix("delete the registry.mirrors tables; mirrors belong in hosts.toml"),
        )
    dirs = _config_dirs(cfg)
    if dirs is None:
        if cfg.registry(wrong).get("config_path"):
            return problem(
                f"config_path is under plugins.'{wrong}'.registry, which config version "
                f"{cfg.version} ignores",
                fix,
            )
        return problem(f"no config_path in plugins.'{right}'.registry", fix)
    plan = _plan(env)
    holding = [
        d
        for d in dirs
        if any(node_files.under(env.root, f"{d}/{m.namespace}").is_dir() for m in plan.mirrors)
    ]
    if not holding:
        return problem(
            f"config_path {':'.join(dirs)} holds no hosts.toml for "
            f"{', '.join(m.namespace for m in plan.mirrors)}",
            Fix(
                f"put the files under {dirs[0]} or point config_path at their directory",
                _regenerate(env).commands,
            ),
        )
    images = cfg.plugin(node_files.V3_IMAGES)
    if (
        cfg.version >= 3
        and images.get("use_local_image_pull") is not True
        and images.get("discard_unpacked_layers") is not True
    ):
        detail = (
            f"and reads only the first of {len(dirs)} config_path directories (containerd#12415)"
            if len(dirs) > 1
            else "which ignored hosts.toml mirrors in reported cases (spegel#1272)"
        )
        return warning(
            "containerd 2.1+ pulls through the transfer service here, " + detail,
            Fix(
                f"set use_local_image_pull = true in plugins.'{node_files.V3_IMAGES}'",
                config=containerd.config_fragment(3),
            ),
        )
    return passed(f"config_path = {':'.join(dirs)} in plugins.'{right}'.registry")


def _hosts_files(env: Env, plan: MirrorPlan) -> dict[str, tuple[str, Path | None]]:
    """namespace -> (where containerd looks, the file when found), first directory first."""
    try:
        cfg = _config(env)
    except ValueError:
        cfg = None
    dirs = (_config_dirs(cfg) if cfg else None) or [DEFAULT_CERTS]
    out: dict[str, tuple[str, Path | None]] = {}
    for m in plan.mirrors:
        found = None
        for d in dirs:
            f = node_files.under(env.root, f"{d}/{m.namespace}/hosts.toml")
            if f.is_file():
                found = f
                break
        out[m.namespace] = (":".join(dirs), found)
    return out


@check(
    "node.hosts",
    "a hosts.toml for every rule's upstream, at the cache, with its prefix and override_path",
    Severity.ERROR,
    why="a missing file, another host, a wrong prefix or no override_path sends pulls to the "
    "wrong path; containerd then tries the upstream, so the cache is bypassed without an error",
    needs=CONFIG,
)
def node_hosts(env: Env) -> Finding:
    plan = _plan(env)
    files = _hosts_files(env, plan)
    broken: list[str] = []
    for m in plan.mirrors:
        where, path = files[m.namespace]
        if path is None:
            broken.append(f"{m.namespace}: no hosts.toml in {where}/{m.namespace}/")
            continue
        try:
            hf = node_files.read_hosts_file(path)
        except ValueError as exc:
            broken.append(str(exc))
            continue
        ours = [h for h in hf.hosts if h.host == plan.registry]
        if not ours:
            others = ", ".join(h.url for h in hf.hosts) or "no [host] table"
            broken.append(f"{m.namespace}: no [host] at {plan.registry} in {path} ({others})")
            continue
        h = ours[0]
        why = []
        if h.path != m.mirror_path:
            why.append(
                f"path {h.path} is not {m.mirror_path}, the rule {m.prefix!r}'s prefix "
                f"(pulls would go to {h.path.removeprefix('/v2/')!r})"
            )
        if not h.override_path:
            why.append(
                "override_path is not true: containerd adds /v2 itself, so requests go to "
                f"{h.path}/v2/..."
            )
        if h.capabilities is not None and not set(containerd.CAPABILITIES) <= set(h.capabilities):
            why.append(f"capabilities {list(h.capabilities)} lack pull and resolve")
        if why:
            broken.append(f"{m.namespace} ({path}): " + "; ".join(why))
    if broken:
        names = ", ".join(b.split(" ", 1)[0].rstrip(":") for b in broken)
        return problem(
            f"{len(broken)} of {len(plan.mirrors)} mirror file(s) wrong: {names}",
            _regenerate(env),
            *broken,
        )
    return passed(
        f"{len(plan.mirrors)} hosts.toml file(s) point at {plan.registry} with their prefixes",
        *(f"{m.namespace} → {m.mirror_url}" for m in plan.mirrors),
    )


@check(
    "node.fallback",
    "the fallback to the upstream as configured",
    Severity.ERROR,
    why="with a fallback a broken mirror goes unnoticed (and costs Docker Hub pulls); without "
    "one (--no-fallback) every image must come through the cache",
    needs=CONFIG,
    after=("node.hosts",),
)
def node_fallback(env: Env) -> Finding:
    plan = _plan(env)
    files = _hosts_files(env, plan)
    falling: list[str] = []
    for m in plan.mirrors:
        path = files[m.namespace][1]
        assert path is not None  # node.hosts passed
        hf = node_files.read_hosts_file(path)
        own = hf.server is not None and hf.server.rstrip("/") == m.mirror_url
        if not (own and hf.server_override_path):
            falling.append(f"{m.namespace}: falls back to {hf.server or 'https://' + m.namespace}")
    if env.no_fallback and falling:
        return problem(
            f"{len(falling)} host(s) fall back to the upstream",
            Fix(
                "regenerate without fallback",
                (env.commands.ecrcache("node-config", "--no-fallback", "--out", "/"),),
            ),
            *falling,
        )
    if falling:
        return passed(f"{len(falling)} host(s) fall back to the upstream, as configured", *falling)
    return passed("no host falls back to the upstream")


def _provider_file(env: Env) -> Path | None:
    for p in (credprovider.CONFIG_PATH, NODEADM_PROVIDER_CONFIG):
        f = node_files.under(env.root, p)
        if f.is_file():
            return f
    return None


@check(
    "node.credprovider",
    "kubelet's credential provider covers the cache and the mirrored hosts",
    Severity.ERROR,
    why="containerd gives a mirror no credentials of its own: kubelet must get an ECR token "
    "for docker.io, quay.io... images, or ECR answers 401 and the pull falls back",
    needs=CONFIG,
)
def node_credprovider(env: Env) -> Finding:
    plan = _plan(env)
    fix = Fix(
        f"write {credprovider.CONFIG_PATH} (`ecrcache node-config` does) and start kubelet "
        f"with --image-credential-provider-config={credprovider.CONFIG_PATH}",
        _regenerate(env).commands,
    )
    path = _provider_file(env)
    if path is None:
        return problem("no kubelet credential provider config", fix)
    try:
        doc = node_files.read_provider_config(path)
    except ValueError as exc:
        return problem(str(exc), fix)
    providers = [p for p in (doc or {}).get("providers") or [] if isinstance(p, dict)]
    ecr = next((p for p in providers if p.get("name") == credprovider.PROVIDER), None)
    if ecr is None:
        return problem(f"{path}: no {credprovider.PROVIDER} provider", fix)
    patterns = [str(p) for p in ecr.get("matchImages") or []]
    wanted = [plan.registry, *(m.namespace for m in plan.mirrors)]
    missing = [h for h in wanted if not any(credprovider.matches(p, h) for p in patterns)]
    if missing:
        return problem(
            f"{path}: matchImages does not cover {', '.join(missing)}",
            fix,
            *(f"pattern: {p}" for p in patterns),
        )
    env_names = {str(e.get("name")) for e in ecr.get("env") or [] if isinstance(e, dict)}
    if "AWS_REGION" not in env_names:
        return warning(
            f"{path}: no AWS_REGION for the provider: for docker.io and other non-ECR hosts it "
            "asks ECR in the SDK's default region",
            fix,
        )
    return passed(f"{path} covers {', '.join(wanted)}")


@check(
    "node.credprovider_version",
    f"ecr-credential-provider {'.'.join(map(str, credprovider.MIN_PROVIDER_VERSION))} or later",
    Severity.ERROR,
    why="releases before 1.29.0 refuse every image host that is not ECR, so mirrored images "
    "get no credentials (kops PR #16593)",
    needs=CONFIG,
)
def node_credprovider_version(env: Env) -> Finding:
    if not _on_machine(env):
        return skipped("a copy of a node's filesystem: its programs are not run (--root)")
    exe = PROVIDER_BINARY if Path(PROVIDER_BINARY).is_file() else None
    exe = exe or env.paths.which(credprovider.PROVIDER)
    if exe is None:
        return skipped(f"no {credprovider.PROVIDER} on this machine (not a node?)")
    try:
        done = env.paths.run([exe, "--version"], capture_output=True, timeout=env.timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return warning(f"{exe} --version failed: {exc}")
    version = credprovider.parse_version((done.stdout + done.stderr).decode(errors="replace"))
    if version is None:
        return warning(f"{exe} printed no version")
    shown = ".".join(map(str, version))
    if version < credprovider.MIN_PROVIDER_VERSION:
        return problem(
            f"{exe} is {shown}",
            Fix("upgrade the node image (or the binary) to ecr-credential-provider 1.29.0+"),
        )
    return passed(f"{exe} {shown}")


CHECKS = (
    node_containerd,
    node_config_path,
    node_hosts,
    node_fallback,
    node_credprovider,
    node_credprovider_version,
)
