"""How events become bytes and back: pydantic models as JSON, encoded by orjson.

Pydantic turns an event into JSON-ready values and rebuilds (and validates) it
from them; orjson does the byte work. An event class that changes its payload
sets `class_version` and defines `upcast_v1_v2(state)` static methods, which run
here on stored events of older versions before validation.
"""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import TopicError, get_topic, resolve_topic
from pydantic import BaseModel

from domain.errors import DamagedEvent

_ORIGINATOR_FIELDS = {"originator_id", "originator_version"}


class OrjsonTranscoder(Transcoder):
    """Encode JSON-ready values with orjson."""

    def encode(self, obj: Any) -> bytes:
        """Encode values as JSON bytes."""
        return orjson.dumps(obj)

    def decode(self, data: bytes) -> Any:
        """Decode JSON bytes."""
        return orjson.loads(data)


class PydanticMapper(Mapper[UUID]):
    """Map pydantic domain events to stored events and back, with upcasting."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        """Serialise an event: its fields as JSON, without the id and version columns."""
        model = cast(BaseModel, domain_event)
        class_version = getattr(type(model), "class_version", 1)
        if class_version > 1:
            state = model.model_dump(mode="json", exclude=_ORIGINATOR_FIELDS)
            state["class_version"] = class_version
            data = self.transcoder.encode(state)
        else:
            # pydantic writes the JSON bytes itself: one pass, no intermediate dict.
            data = model.__pydantic_serializer__.to_json(model, exclude=_ORIGINATOR_FIELDS)
        if self.compressor:
            data = self.compressor.compress(data)
        if self.cipher:
            data = self.cipher.encrypt(data)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=get_topic(type(model)),
            state=data,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        """Rebuild an event from its stored bytes, upcasting older versions first.

        A stored row that cannot be rebuilt (bytes edited or damaged, an unknown
        topic) is a DamagedEvent naming the episode and version, never a traceback.
        """
        try:
            return self._decode(stored_event)
        except (ValueError, TypeError, KeyError, AttributeError, TopicError) as exc:
            raise DamagedEvent(stored_event.originator_id, stored_event.originator_version, exc) from None

    def _decode(self, stored_event: StoredEvent) -> Any:
        cls = resolve_topic(stored_event.topic)
        data = stored_event.state
        if self.cipher:
            data = self.cipher.decrypt(data)
        if self.compressor:
            data = self.compressor.decompress(data)
        originator_id = stored_event.originator_id
        if getattr(cls, "class_version", 1) == 1 and data[:1] == b"{":
            # Validate straight from the JSON bytes (pydantic parses them in one pass),
            # with the id and version columns spliced in as the first two fields.
            head = b'{"originator_id":"%s","originator_version":%d' % (
                str(originator_id).encode(),
                stored_event.originator_version,
            )
            body = data[1:].lstrip()
            return cls.model_validate_json(head + (b"}" if body == b"}" else b"," + body))
        state: dict[str, Any] = self.transcoder.decode(data)
        from_version = state.pop("class_version", 1)
        class_version = getattr(cls, "class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        originator_id = stored_event.originator_id
        state["originator_id"] = originator_id if isinstance(originator_id, UUID) else UUID(originator_id)
        state["originator_version"] = stored_event.originator_version
        return cls.model_validate(state)
