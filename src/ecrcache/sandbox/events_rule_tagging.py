"""The Resource Groups Tagging API lists EventBridge rules, as AWS's does.

AWS's GetResources covers EventBridge rules (resource type ``events:rule``; Amazon EventBridge
is in the Resource Groups Tagging API reference's "Services that support the Resource Groups
Tagging API", and the rule's ARN ``arn:aws:events:REGION:ACCOUNT:rule/NAME`` carries that type).
moto 5.2's ``EventsBackend.iter_tagged_resources`` yields event buses only, so a tagged rule is
never listed. ``install()`` adds the rules of every bus, with the tags moto's EventBridge tagger
holds; untagged ones stay out ("GetResources does not return untagged resources").
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

_ORIGINAL_ATTR = "_ecrcache_original_iter_tagged_resources"
_lock = threading.Lock()


def install() -> None:
    """Make moto's EventBridge list its tagged rules to GetResources. Idempotent."""
    from moto.core.resource_tagging import TaggedResource
    from moto.events.models import EventsBackend

    with _lock:
        if not hasattr(EventsBackend, _ORIGINAL_ATTR):
            setattr(EventsBackend, _ORIGINAL_ATTR, EventsBackend.iter_tagged_resources)
        original: Callable[[Any], Iterator[Any]] = getattr(EventsBackend, _ORIGINAL_ATTR)

        def iter_tagged_resources(self: Any) -> Iterator[Any]:
            yield from original(self)
            for bus in list(self.event_buses.values()):
                for rule in list(bus.rules.values()):
                    tags = self.tagger.get_tag_dict_for_resource(rule.arn)
                    if tags:
                        yield TaggedResource(arn=rule.arn, tags=tags, resource_type="events:rule")

        setattr(EventsBackend, "iter_tagged_resources", iter_tagged_resources)  # noqa: B010
