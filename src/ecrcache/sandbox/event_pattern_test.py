"""EventBridge's TestEventPattern, which moto 5.2 leaves unimplemented (its backend raises
``NotImplementedError``; its response handler returns nothing).

As the EventBridge API reference has it (TestEventPattern): ``EventPattern`` is parsed as a
rule's pattern is (moto's ``EventPatternParser``: ``InvalidEventPatternException`` for bad JSON,
empty arrays, scalar values), and the ``Event`` "must follow the format specified in AWS
Events, and the following fields are mandatory: id, account, source, time, region, resources,
detail-type"; an event without them, or not JSON, is refused (``InvalidEventPatternException``,
"Event is not valid", as moto's own pattern errors are shaped; AWS's exact message is not
documented). The match is moto's rule matcher, the one PutEvents uses, so a pattern tested
here matches in the sandbox exactly as it delivers. Kinder than AWS: moto's matcher supports
fewer content filters (e.g. ``wildcard``, ``anything-but`` with ``prefix``) than AWS does, and
does not check ``time`` is a real timestamp.
"""

from __future__ import annotations

import json
import threading
from typing import Any

REQUIRED = ("id", "account", "source", "time", "region", "resources", "detail-type")
_lock = threading.Lock()


def test_event_pattern(pattern_text: str, event_text: str) -> bool:
    from moto.events.exceptions import InvalidEventPatternException
    from moto.events.models import EventPattern

    pattern = EventPattern.load(pattern_text)
    try:
        event = json.loads(event_text)
    except ValueError:
        raise InvalidEventPatternException(reason="Event is not valid JSON") from None
    missing = [k for k in REQUIRED if not isinstance(event, dict) or k not in event]
    if missing:
        raise InvalidEventPatternException(
            reason=f"Event is not valid: missing {', '.join(missing)}"
        )
    return bool(pattern.matches_event(event))


def install() -> None:
    """Answer TestEventPattern in moto's EventBridge. Idempotent."""
    from moto.events.responses import EventsHandler

    with _lock:

        def handler(self: Any) -> str:
            result = test_event_pattern(self._get_param("EventPattern"), self._get_param("Event"))
            return json.dumps({"Result": result})

        handler.__name__ = "test_event_pattern"
        setattr(EventsHandler, "test_event_pattern", handler)  # noqa: B010
