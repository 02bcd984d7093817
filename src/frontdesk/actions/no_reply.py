"""The holding message: a visitor who waits ``FRONTDESK_NO_REPLY_SECONDS`` without an operator
reply gets one polite ``system`` message (asking for contacts when none are known)."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, exists, func, or_, select, update

from frontdesk import serialize
from frontdesk.actions import queries, sites
from frontdesk.actions.emails import visitor_language
from frontdesk.actions.writer import PendingMessage
from frontdesk.models import Conversation, Message, Operator, Site, Visitor

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
# The texts are the site's (Sites page, per language; defaults in actions/sites.py DEFAULT_WIDGET):
# "ask"/"hold" without/with known contacts, "_online" when an operator of the site is online.
AUTO_HOLD_PREFIX = serialize.AUTO_HOLD_PREFIX  # the automatic "Одну минуточку, уточняю…"


WINDOW_MARGIN = timedelta(seconds=60)  # slack of the "since the last tick" window (clock jitter between ticks)


async def check_no_reply(rt: Runtime, now: datetime, window: dict | None = None) -> int:
    """Give every open live conversation whose visitor has waited ``no_reply_seconds`` for an
    operator one polite ``system`` message (once per conversation). Returns how many were stored.

    Idempotent on every node: the message's (sender "system", client_id) is unique,
    so two nodes storing the same holding message store it once.

    ``window`` (kept by the background loop between ticks; None = look at every open conversation)
    holds ``since``, the time of the last complete tick: a conversation that came due after it has a
    visitor message newer than ``since - no_reply_seconds``, so only open conversations with a
    message since then are looked at (``last_message_at``, indexed) — not every open one."""
    seconds = rt.settings.no_reply_seconds
    if seconds <= 0:
        return 0
    threshold = now - timedelta(seconds=seconds)
    recent = []
    since = window.get("since") if window is not None else None
    if since is not None:
        recent = [Conversation.last_message_at > since - timedelta(seconds=seconds) - WINDOW_MARGIN]
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
            .where(Conversation.status == "open", *recent, Conversation.is_offline.is_(False),
                   Conversation.last_seq > 0, and_(waiting_since.is_not(None), waiting_since <= threshold), ~held)
            .order_by(Conversation.id).limit(NO_REPLY_BATCH))).all()
        online = await queries.sites_online(session, {r[1] for r in rows}) if rows else {}
    pending = []
    for cid, site_id, visitor_id, v_email, v_phone, v_lang, site in rows:
        ask = not (v_email or v_phone)
        lang = visitor_language(v_lang, site)
        pending.append(rt.writer.store(PendingMessage(
            conversation_id=cid, site_id=site_id, visitor_id=visitor_id, kind="system", sender="system",
            text=sites.holding_text(site.widget, lang,
                                    ("ask" if ask else "hold") + ("_online" if online.get(site_id) else "")),
            client_id=f"{ASK_CONTACTS_PREFIX if ask else HOLD_PREFIX}{cid}")))
    results = await asyncio.gather(*pending, return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    for r in failed:
        log.warning("storing a holding message failed: %s", r)
    if window is not None and not failed and len(rows) < NO_REPLY_BATCH:
        window["since"] = now  # everything due until now is done: the next tick looks from here
    return len(results) - len(failed)


async def check_auto_hold(rt: Runtime, now: datetime) -> int:
    """The automatic holding line: on sites whose ``auto_hold_seconds`` is set (off by default), an
    open conversation whose assignee is online and has not answered the visitor for that long — counted
    from the visitor's first unanswered message or from the take, whichever is later — gets the site's
    ``auto_hold`` phrase ("Одну минуточку, уточняю…") on the assignee's behalf, once per waiting stretch.

    Claimed across nodes like ``offer_count``: a conditional UPDATE of ``auto_hold_seq`` to the seq of the
    first unanswered visitor message; only the node whose UPDATE matched stores the line (its client_id
    ``autohold:<conversation>:<seq>`` is unique as well). The line is not a reply: it is never the preview
    and does not set ``first_reply_at``. Returns how many were stored."""
    async with rt.sessions() as session:
        all_sites = (await session.execute(select(Site.id, Site.widget))).all()
        delays = {sid: s for sid, w in all_sites if (s := sites.widget_settings_of(w)["auto_hold_seconds"]) > 0}
        if not delays:
            return 0
        last_operator_seq = (select(func.coalesce(func.max(Message.seq), 0))
                             .where(Message.conversation_id == Conversation.id, Message.kind == "operator")
                             .correlate(Conversation).scalar_subquery())
        first_waiting = (select(func.min(Message.seq))
                         .where(Message.conversation_id == Conversation.id, Message.kind == "visitor",
                                Message.seq > last_operator_seq)
                         .correlate(Conversation).scalar_subquery())
        waiting_since = (select(func.min(Message.created_at))
                         .where(Message.conversation_id == Conversation.id, Message.kind == "visitor",
                                Message.seq > last_operator_seq)
                         .correlate(Conversation).scalar_subquery())
        # the shortest delay of any site filters in SQL (the batch holds only candidates); each
        # site's own delay is applied below
        earliest = now - timedelta(seconds=min(delays.values()))
        rows = (await session.execute(
            select(Conversation, first_waiting, waiting_since, Visitor.language, Site, Operator)
            .join(Visitor, Visitor.id == Conversation.visitor_id).join(Site, Site.id == Conversation.site_id)
            .join(Operator, Operator.id == Conversation.assignee_id)
            .where(Conversation.status == "open", Conversation.is_offline.is_(False),
                   Conversation.site_id.in_(delays), Operator.status == "online", Operator.is_active.is_(True),
                   first_waiting.is_not(None), first_waiting > Conversation.auto_hold_seq,
                   waiting_since <= earliest,
                   or_(Conversation.assigned_at.is_(None), Conversation.assigned_at <= earliest))
            .order_by(Conversation.id).limit(NO_REPLY_BATCH))).all()
    pending = []
    for conv, seq, start, v_lang, site, op in rows:
        if conv.assigned_at is not None and conv.assigned_at > start:
            start = conv.assigned_at
        if now < start + timedelta(seconds=delays[conv.site_id]):
            continue
        async with rt.sessions() as session, session.begin():
            claimed = (await session.execute(
                update(Conversation)
                .where(Conversation.id == conv.id, Conversation.auto_hold_seq < seq,
                       Conversation.assignee_id == op.id, Conversation.status == "open")
                .values(auto_hold_seq=seq).execution_options(synchronize_session=False))
                       ).rowcount  # type: ignore[attr-defined]  # an UPDATE result
        if claimed != 1:  # another node won this one
            continue
        pending.append(rt.writer.store(PendingMessage(
            conversation_id=conv.id, site_id=conv.site_id, visitor_id=conv.visitor_id, kind="operator",
            sender=f"o{op.id}", author=op,
            text=sites.holding_text(site.widget, visitor_language(v_lang, site), "auto_hold"),
            client_id=f"{AUTO_HOLD_PREFIX}{conv.id}:{seq}")))
    results = await asyncio.gather(*pending, return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException):
            log.warning("storing an automatic holding line failed: %s", r)
    return sum(1 for r in results if not isinstance(r, BaseException))
