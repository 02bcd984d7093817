"""Who receives which event, in what shape. The one place that decides it.

Rules (tested with exact recipient sets in ``tests/events/test_audience.py``):

* a visitor socket only ever receives events of its **own** visitor id (or
  its site's availability) and never an internal note;
* an operator socket receives events of the sites it works on (admins: all);
* ``conversation.offered`` goes only to operators whose status is online — of a conversation of a
  department with a member online, only to its online members (``offer_to``); a site with automatic
  routing gets no offer when a conversation starts (the router assigns it);
* ``visitor.typing`` and ``conversation.rated`` go to operators only; ``operator.typing`` to the visitor and to the
  operators of the site (who else is typing in a conversation they have open);
* ``invitation.sent`` (a manual invitation) goes only to that visitor, never to an operator;
* ``transfer.offered`` goes only to the receiving operator, ``transfer.ended`` only to the two
  operators of the transfer, ``operator.viewing`` to the operators of the site — never to a visitor;
* ``conversation.escalated`` (never to a visitor): step ``alert`` to the operator holding the
  conversation, else to the online operators; ``offer_all`` to the online operators; ``email`` and
  ``contacts`` to every operator of the site.
* ``ban.changed`` goes to the operators of the ban's site only (the banned visitor's sockets are
  closed by the hub with an ``error`` frame ``banned``, not sent the event).
* ``queue.position`` goes only to the waiting visitor (never to operators).
"""
from __future__ import annotations

from frontdesk import events as ev
from frontdesk.events import Event

_VISITOR_EVENTS = {
    ev.MESSAGE_CREATED, ev.CONVERSATION_CREATED, ev.CONVERSATION_ASSIGNED,
    ev.CONVERSATION_CLOSED, ev.CONVERSATION_REOPENED, ev.OPERATOR_TYPING,
    ev.INVITATION_SENT,
    ev.QUEUE_POSITION,
}
_OPERATOR_EVENTS = {
    ev.MESSAGE_CREATED, ev.CONVERSATION_CREATED, ev.CONVERSATION_OFFERED, ev.CONVERSATION_ASSIGNED,
    ev.CONVERSATION_CLOSED, ev.CONVERSATION_REOPENED, ev.CONVERSATION_UPDATED,
    ev.VISITOR_TYPING, ev.OPERATOR_STATUS_CHANGED, ev.CONVERSATION_RATED, ev.VISITOR_UPDATED, ev.OPERATOR_TYPING,
    ev.TRANSFER_OFFERED, ev.TRANSFER_ENDED, ev.OPERATOR_VIEWING,
    ev.CONVERSATION_ESCALATED,
    ev.BAN_CHANGED,
}


_AVAILABILITY = ("operators_online", "within_hours", "available", "next_open_at")


def visitor_frame(event: Event) -> dict | None:
    """The frame visitors of ``event.visitor_id`` get, or None when they get nothing."""
    if event.name == ev.SITE_AVAILABILITY:
        return {"type": "availability", **{k: event.payload[k] for k in _AVAILABILITY if k in event.payload}}
    if event.name not in _VISITOR_EVENTS or event.visitor_id is None:
        return None
    p = event.payload
    if event.name == ev.MESSAGE_CREATED:
        if p["message"]["kind"] == "note":
            return None
        return {"type": ev.MESSAGE_CREATED, "message": p["message"]}
    if event.name == ev.CONVERSATION_CREATED:
        return {"type": ev.CONVERSATION_CREATED, "conversation": p["visitor_conversation"]}
    if event.name == ev.INVITATION_SENT:
        return {"type": "invitation", "invitation": p["invitation"]}
    if event.name == ev.CONVERSATION_ASSIGNED:
        return {"type": ev.CONVERSATION_ASSIGNED, "conversation_id": event.conversation_id,
                "operator": p["operator"]}
    if event.name == ev.OPERATOR_TYPING:
        return {"type": ev.OPERATOR_TYPING, "conversation_id": event.conversation_id,
                "is_typing": p["is_typing"], "operator": {"name": p["operator"]["name"]}}
    if event.name == ev.QUEUE_POSITION:
        return {"type": ev.QUEUE_POSITION, "conversation_id": event.conversation_id, "position": p["position"]}
    return {"type": event.name, "conversation_id": event.conversation_id}


def operator_frame(event: Event) -> dict | None:
    if event.name not in _OPERATOR_EVENTS:
        return None
    p = event.payload
    if event.name in (ev.MESSAGE_CREATED,):  # flagged / masked by the site's profanity setting, if so
        return {"type": event.name, "message": p.get("operator_message") or p["message"]}
    if event.name == ev.CONVERSATION_OFFERED:
        return {"type": event.name, "conversation": p["conversation"], "repeat": p.get("repeat", 0)}
    if event.name in (ev.CONVERSATION_CREATED, ev.CONVERSATION_UPDATED):
        return {"type": event.name, "conversation": p["conversation"]}
    if event.name == ev.CONVERSATION_ASSIGNED:
        return {"type": event.name, "conversation_id": event.conversation_id, "operator": p["operator"]}
    if event.name == ev.CONVERSATION_CLOSED:
        return {"type": event.name, "conversation_id": event.conversation_id, "by": p.get("by"),
                "by_visitor": bool(p.get("by_visitor")), "closed_at": p.get("closed_at")}
    if event.name == ev.CONVERSATION_REOPENED:
        return {"type": event.name, "conversation_id": event.conversation_id, "conversation": p["conversation"]}
    if event.name == ev.CONVERSATION_RATED:
        return {"type": event.name, "conversation_id": event.conversation_id, "rating": p["rating"]}
    if event.name == ev.VISITOR_TYPING:
        return {"type": event.name, "conversation_id": event.conversation_id, "text": p["text"]}
    if event.name == ev.VISITOR_UPDATED:
        return {"type": event.name, "visitor": p["visitor"]}
    if event.name == ev.OPERATOR_STATUS_CHANGED:
        return {"type": event.name, "operator_id": event.operator_id, "status": p["status"]}
    if event.name == ev.OPERATOR_TYPING:
        return {"type": event.name, "conversation_id": event.conversation_id, "is_typing": p["is_typing"],
                "operator": p["operator"]}
    if event.name == ev.TRANSFER_OFFERED:
        return {"type": event.name, "transfer": p["transfer"], "conversation": p["conversation"]}
    if event.name == ev.TRANSFER_ENDED:
        return {"type": event.name, "transfer_id": p["transfer_id"], "conversation_id": event.conversation_id,
                "result": p["result"]}
    if event.name == ev.OPERATOR_VIEWING:
        return {"type": event.name, "conversation_id": event.conversation_id, "operator": p["operator"],
                "viewing": p["viewing"]}
    if event.name == ev.CONVERSATION_ESCALATED:
        return {"type": event.name, "conversation_id": event.conversation_id, "step": p["step"],
                "conversation": p["conversation"]}
    if event.name == ev.BAN_CHANGED:
        return {"type": event.name, "ban": p["ban"]}
    return {"type": event.name, "conversation_id": event.conversation_id}


def operator_receives(event: Event, *, operator_id: int, site_ids: frozenset[int] | None,
                      status: str) -> bool:
    """Whether one operator socket gets this event. ``site_ids`` None = admin (all sites)."""
    if event.name == ev.OPERATOR_STATUS_CHANGED:
        return True
    if event.site_id is None:
        return False
    if site_ids is not None and event.site_id not in site_ids:
        return False
    if event.name == ev.CONVERSATION_OFFERED:
        offer_to = p_get(event, "offer_to")
        return status == "online" and (not isinstance(offer_to, list) or operator_id in offer_to)
    if event.name == ev.TRANSFER_OFFERED:
        return operator_id == p_get(event, "to_operator_id")
    if event.name == ev.TRANSFER_ENDED:
        return operator_id in (p_get(event, "from_operator_id"), p_get(event, "to_operator_id"))
    if event.name == ev.CONVERSATION_ESCALATED:
        step, holder = p_get(event, "step"), p_get(event, "assignee_id")
        if step == "alert" and holder is not None:
            return operator_id == holder
        if step in ("alert", "offer_all"):
            return status == "online"
    return True


def p_get(event: Event, key: str) -> object:
    return event.payload.get(key)


def message_seq(event: Event) -> tuple[int, int] | None:
    """(conversation_id, seq) of a message event, used to drop replay/live overlap."""
    if event.name == ev.MESSAGE_CREATED:
        m = event.payload["message"]
        return m["conversation_id"], m["seq"]
    return None
