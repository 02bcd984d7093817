"""CSAT: the visitor rates its own closed conversation (stars 1..5 or thumbs), once per conversation.

Policy (docs/protocol.md § Ratings): a second rating of the same conversation **replaces** the
first (the visitor may correct a mis-tap); the rating keeps the operator who held the conversation
when it was first rated. Every value is stored on the 1..5 scale: thumbs down = 1, thumbs up = 5.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from frontdesk import events as ev
from frontdesk import serialize
from frontdesk.actions import queries
from frontdesk.actions.errors import ActionError, not_found
from frontdesk.actions.identity import VisitorRef
from frontdesk.actions.sites import widget_settings_of
from frontdesk.actions.validate import check_id, well_formed
from frontdesk.models import Conversation, ConversationRating, Site

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime

COMMENT_MAX = 2000
VALUES = {"stars": (1, 2, 3, 4, 5), "thumbs": (1, 5)}


def check_rating_value(value: object, scale: str) -> int:
    """1..5 for stars; 1 (down) or 5 (up) for thumbs. ``invalid_input`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or value not in VALUES[scale]:
        allowed = ", ".join(str(v) for v in VALUES[scale])
        raise ActionError("invalid_input", f"rating must be one of {allowed} ({scale})")
    return value


def check_comment(comment: object) -> str | None:
    """Optional: None or blank → None; at most 2,000 code points after trimming."""
    if comment is None:
        return None
    if not isinstance(comment, str):
        raise ActionError("invalid_input", "comment must be a string")
    if not well_formed(comment):
        raise ActionError("invalid_text", "comment is not well-formed Unicode (lone surrogate)")
    comment = comment.replace("\r\n", "\n").replace("\x00", "").strip()
    if len(comment) > COMMENT_MAX:
        raise ActionError("text_too_long", f"comment is longer than {COMMENT_MAX} characters", 413)
    return comment or None


async def rate_conversation(rt: Runtime, visitor: VisitorRef, conversation_id: object, value: object,
                            comment: object = None) -> dict:
    """Store (or replace) the visitor's rating of its own **closed** conversation; operators of the
    site get ``conversation.rated``. Another visitor's id → ``not_found``; an open one → ``conflict``."""
    cid = check_id(conversation_id)
    clean_comment = check_comment(comment)
    for _attempt in range(2):
        try:
            async with rt.sessions() as session, session.begin():
                conv = await session.get(Conversation, cid)
                if conv is None or conv.visitor_id != visitor.id or conv.last_seq == 0:
                    raise not_found()
                if conv.status != "closed":
                    raise ActionError("conflict", "only a closed conversation can be rated", 409)
                site = await session.get(Site, conv.site_id)
                scale = widget_settings_of(site.widget if site else None)["rating"]
                clean = check_rating_value(value, scale)
                now = rt.clock()
                row = await session.get(ConversationRating, cid)
                if row is None:
                    row = ConversationRating(conversation_id=cid, site_id=conv.site_id, operator_id=conv.assignee_id,
                                             created_at=now)
                    session.add(row)
                row.value, row.scale, row.comment, row.updated_at = clean, scale, clean_comment, now
                await session.flush()
                rating = serialize.rating(row)
                assert rating is not None
            break
        except IntegrityError:  # another tab rated it in the same instant: replace that one
            continue
    else:
        raise ActionError("internal", "could not store the rating; retry", 503)
    await rt.publish(queries.conversation_event(ev.CONVERSATION_RATED, conv, {"rating": rating}))
    return rating
