"""Domain events: produced only by ``frontdesk.actions`` after commit, carried by the broker.

An event names what happened (``noun.verb``), which site and conversation it
concerns, and the payload operators see. ``events.audience`` decides which
sockets receive it and in what shape.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

MESSAGE_CREATED = "message.created"
CONVERSATION_CREATED = "conversation.created"
CONVERSATION_OFFERED = "conversation.offered"
CONVERSATION_ASSIGNED = "conversation.assigned"
CONVERSATION_CLOSED = "conversation.closed"
CONVERSATION_REOPENED = "conversation.reopened"
CONVERSATION_UPDATED = "conversation.updated"
VISITOR_TYPING = "visitor.typing"
OPERATOR_TYPING = "operator.typing"
OPERATOR_STATUS_CHANGED = "operator.status_changed"
SITE_AVAILABILITY = "site.availability"

ALL = frozenset({
    MESSAGE_CREATED, CONVERSATION_CREATED, CONVERSATION_OFFERED, CONVERSATION_ASSIGNED,
    CONVERSATION_CLOSED, CONVERSATION_REOPENED, CONVERSATION_UPDATED, VISITOR_TYPING,
    OPERATOR_TYPING, OPERATOR_STATUS_CHANGED, SITE_AVAILABILITY,
})

CHANNEL = "frontdesk.events"


@dataclass(frozen=True)
class Event:
    name: str
    site_id: int | None
    payload: dict = field(default_factory=dict)
    conversation_id: int | None = None
    visitor_id: int | None = None
    operator_id: int | None = None  # the operator the event is about / who acted

    def to_json(self) -> str:
        # not dataclasses.asdict: it deep-copies the payload first, for every event
        return json.dumps({"name": self.name, "site_id": self.site_id, "payload": self.payload,
                           "conversation_id": self.conversation_id, "visitor_id": self.visitor_id,
                           "operator_id": self.operator_id}, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str) -> "Event":
        return cls(**json.loads(raw))
