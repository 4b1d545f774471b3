"""Every doctor check, in the order they run (network checks are moved last by the runner).

IDs are stable: scripts select them with ``--check`` and read them from ``--output json``.
"""

from __future__ import annotations

from ecrcache.doctor import (
    checks_account,
    checks_hub,
    checks_image,
    checks_machine,
    checks_monitoring,
    checks_network,
    checks_pullers,
    checks_secrets,
    checks_templates,
)
from ecrcache.doctor.model import Check

CHECKS: tuple[Check, ...] = (
    *checks_account.CHECKS,
    *checks_secrets.CHECKS,
    *checks_monitoring.CHECKS,
    *checks_templates.CHECKS,
    *checks_pullers.CHECKS,
    *checks_hub.CHECKS,
    *checks_machine.CHECKS,
    *checks_image.CHECKS,
    *checks_network.CHECKS,
)

assert len({c.id for c in CHECKS}) == len(CHECKS), "check IDs must be unique"


def by_id(check_id: str) -> Check:
    return next(c for c in CHECKS if c.id == check_id)
