"""The holding message: a visitor who waits ``FRONTDESK_NO_REPLY_SECONDS`` without an operator
reply gets one polite ``system`` message (asking for contacts when none are known)."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, exists, func, or_, select

from frontdesk.actions import queries
from frontdesk.actions.emails import visitor_language
from frontdesk.actions.writer import PendingMessage
from frontdesk.models import Conversation, Message, Site, Visitor

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime

log = logging.getLogger(__name__)

# client_id prefixes of the holding message (sender "system"); the widget reads
# "ask_contacts:" as "show the contacts form" (docs/protocol.md § Offline mode)
ASK_CONTACTS_PREFIX = "ask_contacts:"
HOLD_PREFIX = "hold:"
NO_REPLY_BATCH = 200  # conversations handled per tick; the rest are picked up on the next one

# The wording says what is true: with an operator of the site online the answer is coming (the
# contacts only make sure it reaches the visitor); with nobody online the visitor is told so.
HOLDING_TEXT = {
    "ru": {
        "ask": "Спасибо за ваше сообщение! Сейчас операторов нет на связи. Оставьте, пожалуйста, e-mail или "
               "телефон — мы ответим вам, как только сможем, даже если вы закроете страницу.",
        "hold": "Спасибо за ваше сообщение! Сейчас операторов нет на связи — мы ответим вам, как только сможем.",
        "ask_online": "Спасибо за ваше сообщение! Оператор скоро ответит. Оставьте, пожалуйста, e-mail или "
                      "телефон, чтобы ответ дошёл до вас, даже если вы закроете страницу.",
        "hold_online": "Спасибо за ваше сообщение! Оператор скоро ответит, оставайтесь, пожалуйста, на связи.",
    },
    "en": {
        "ask": "Thank you for your message! No operator is available right now. Please leave your e-mail "
               "or phone number and we will get back to you as soon as we can, even if you close this page.",
        "hold": "Thank you for your message! No operator is available right now — we will get back to you "
                "as soon as we can.",
        "ask_online": "Thank you for your message! An operator will answer shortly. Please leave your e-mail "
                      "or phone number so that the answer reaches you even if you close this page.",
        "hold_online": "Thank you for your message! An operator will answer shortly, please stay with us.",
    },
}


async def check_no_reply(rt: Runtime, now: datetime) -> int:
    """Give every open live conversation whose visitor has waited ``no_reply_seconds`` for an
    operator one polite ``system`` message (once per conversation). Returns how many were stored.

    Idempotent on every node: the message's (sender "system", client_id) is unique,
    so two nodes storing the same holding message store it once."""
    seconds = rt.settings.no_reply_seconds
    if seconds <= 0:
        return 0
    threshold = now - timedelta(seconds=seconds)
    last_operator_seq = (select(func.coalesce(func.max(Message.seq), 0))
                         .where(Message.conversation_id == Conversation.id, Message.kind == "operator")
                         .correlate(Conversation).scalar_subquery())
    waiting_since = (select(func.min(Message.created_at))
                     .where(Message.conversation_id == Conversation.id, Message.kind == "visitor",
                            Message.seq > last_operator_seq)
                     .correlate(Conversation).scalar_subquery())
    held = exists().where(Message.conversation_id == Conversation.id, Message.sender == "system",
                          or_(Message.client_id.like(ASK_CONTACTS_PREFIX + "%"),
                              Message.client_id.like(HOLD_PREFIX + "%"))).correlate(Conversation)
    async with rt.sessions() as session:
        rows = (await session.execute(
            select(Conversation.id, Conversation.site_id, Visitor.id, Visitor.email, Visitor.phone,
                   Visitor.language, Site)
            .join(Visitor, Visitor.id == Conversation.visitor_id).join(Site, Site.id == Conversation.site_id)
            .where(Conversation.status == "open", Conversation.is_offline.is_(False), Conversation.last_seq > 0,
                   and_(waiting_since.is_not(None), waiting_since <= threshold), ~held)
            .order_by(Conversation.id).limit(NO_REPLY_BATCH))).all()
        online = await queries.sites_online(session, {r[1] for r in rows}) if rows else {}
    pending = []
    for cid, site_id, visitor_id, v_email, v_phone, v_lang, site in rows:
        ask = not (v_email or v_phone)
        lang = visitor_language(v_lang, site)
        pending.append(rt.writer.store(PendingMessage(
            conversation_id=cid, site_id=site_id, visitor_id=visitor_id, kind="system", sender="system",
            text=HOLDING_TEXT[lang][("ask" if ask else "hold") + ("_online" if online.get(site_id) else "")],
            client_id=f"{ASK_CONTACTS_PREFIX if ask else HOLD_PREFIX}{cid}")))
    results = await asyncio.gather(*pending, return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException):
            log.warning("storing a holding message failed: %s", r)
    return sum(1 for r in results if not isinstance(r, BaseException))
