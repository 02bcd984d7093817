"""Domain events: produced only by ``frontdesk.actions`` after commit, carried by the broker.

An event names what happened (``noun.verb``), which site and conversation it
concerns, and the payload operators see. ``events.audience`` decides which
sockets receive it and in what shape.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import msgspec

MESSAGE_CREATED = "message.created"
CONVERSATION_CREATED = "conversation.created"
CONVERSATION_OFFERED = "conversation.offered"
CONVERSATION_ASSIGNED = "conversation.assigned"
CONVERSATION_CLOSED = "conversation.closed"
CONVERSATION_REOPENED = "conversation.reopened"
CONVERSATION_UPDATED = "conversation.updated"
CONVERSATION_RATED = "conversation.rated"  # the visitor rated a closed conversation (CSAT)
VISITOR_TYPING = "visitor.typing"
OPERATOR_TYPING = "operator.typing"
OPERATOR_STATUS_CHANGED = "operator.status_changed"
SITE_AVAILABILITY = "site.availability"
# team work (actions/team.py): a transfer offer for one operator, its end (accepted / expired),
# and who has a conversation open (ephemeral, never stored)
TRANSFER_OFFERED = "transfer.offered"
TRANSFER_ENDED = "transfer.ended"
OPERATOR_VIEWING = "operator.viewing"
# an operator's sessions, role or sites changed: every node closes that operator's panel sockets
OPERATOR_ACCESS_CHANGED = "operator.access_changed"
# a visitor viewed a page (actions.visits): the row of the visitors list, to the site's operators
VISITOR_UPDATED = "visitor.updated"
# a conversation nobody answered reached an escalation step (actions.escalation); operators only
CONVERSATION_ESCALATED = "conversation.escalated"
# an operator invited one visitor (actions.invitations.send_manual): to that visitor's widget only
INVITATION_SENT = "invitation.sent"
# a ban was created or lifted (actions.bans): every node updates its ban index and closes the
# sockets it now refuses; the operators of the site see the bans page change
BAN_CHANGED = "ban.changed"
# automatic routing (actions/routing.py): a waiting visitor's place in the queue, to that visitor only
QUEUE_POSITION = "queue.position"

ALL = frozenset({
    MESSAGE_CREATED, CONVERSATION_CREATED, CONVERSATION_OFFERED, CONVERSATION_ASSIGNED,
    CONVERSATION_CLOSED, CONVERSATION_REOPENED, CONVERSATION_UPDATED, VISITOR_TYPING,
    OPERATOR_TYPING, OPERATOR_STATUS_CHANGED, SITE_AVAILABILITY, OPERATOR_ACCESS_CHANGED,
    CONVERSATION_RATED,
    VISITOR_UPDATED,
    TRANSFER_OFFERED, TRANSFER_ENDED, OPERATOR_VIEWING,
    CONVERSATION_ESCALATED,
    INVITATION_SENT,
    BAN_CHANGED,
    QUEUE_POSITION,
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

    def to_json(self) -> bytes:
        """For brokers between nodes only (the memory broker passes the object itself)."""
        # not dataclasses.asdict: it deep-copies the payload first, for every event
        return msgspec.json.encode({"name": self.name, "site_id": self.site_id, "payload": self.payload,
                                    "conversation_id": self.conversation_id, "visitor_id": self.visitor_id,
                                    "operator_id": self.operator_id})

    @classmethod
    def from_json(cls, raw: str | bytes) -> Event:
        return cls(**msgspec.json.decode(raw))
