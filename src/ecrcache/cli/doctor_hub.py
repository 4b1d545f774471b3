"""doctor across ``[targets]``: a spoke's hub, when it is another target of the same config, is
read through that target's clients (its role assumed from the same base credentials), so
``hub.first-pull`` judges the hub's registry and template policies instead of saying it cannot
see them. ``[targets.X.spoke] hub_target = "NAME"`` becomes the hub's account and region
(``config.targets.resolve_hub_target``): the hub target is the one in that account and region.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ecrcache.aws import Clients
    from ecrcache.cli.options import GlobalOptions
    from ecrcache.config.schema import Config
    from ecrcache.config.targets import Target


def hub_target(opts: GlobalOptions, config: Config, running: Target) -> Target | None:
    """The target of the config (selected by --target or not) that is ``config``'s hub."""
    from ecrcache.config.loading import load_document
    from ecrcache.config.targets import expand_targets

    account, region = config.registry_of("", running.region)
    doc = load_document(opts.config_path)
    for t in expand_targets(doc, filename=str(opts.config_path)):
        if t.name != running.name and t.account_id == account and t.region == region:
            return t
    return None


def hub_clients(opts: GlobalOptions, config: Config | None) -> tuple[Clients | None, str | None]:
    """The hub's clients for a spoke's doctor run across targets, and why there are none when
    the hub is a target but its role could not be assumed (None, None: not a spoke, not across
    targets, or a hub outside the config)."""
    from ecrcache.cli.targets import active

    running = active()
    if config is None or config.spoke is None or running is None or running.clients_of is None:
        return None, None
    hub = hub_target(opts, config, running.target)
    if hub is None:
        return None, None
    from ecrcache.doctor.context import doctor_clients
    from ecrcache.errors import EcrcacheError

    try:
        return doctor_clients(running.clients_of(hub)), None
    except EcrcacheError as exc:  # the spoke's own checks still run; the hub's side is unseen
        return None, f"the hub target {hub.name}: {exc.message}"
