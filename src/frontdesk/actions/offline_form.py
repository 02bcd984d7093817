"""The offline form: a visitor writes while nobody is available; the message is stored in the
visitor's open conversation (marked ``is_offline``) and one e-mail per notification address
is queued in the **same** transaction (``PendingMessage.in_transaction``)."""
from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.actions import queries
from frontdesk.actions.conversations import store_in_open_conversation
from frontdesk.actions.emails import panel_link, visitor_language
from frontdesk.actions.errors import ActionError
from frontdesk.actions.identity import SiteRef
from frontdesk.actions.sites import profanity_mode
from frontdesk.actions.validate import CLIENT_ID_RE, check_text, check_visitor_email, check_visitor_name, clip
from frontdesk.actions.visitors import check_not_banned, identify_visitor, visitor_updated_event
from frontdesk.actions.writer import PendingMessage, StoredMessage
from frontdesk.mail import compose
from frontdesk.mail.outbox import queue_email
from frontdesk.models import Conversation, OutboxKind, Site, Visitor

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime

log = logging.getLogger(__name__)


def _sign(rt: Runtime, site_id: int, ms: int) -> str:
    key = rt.settings.resolved_secret_key().encode()
    return hmac.new(key, f"offline-form:{site_id}:{ms}".encode(), hashlib.sha256).hexdigest()[:32]


def form_token(rt: Runtime, site: SiteRef) -> dict:
    """``GET /widget/form-token``: when the widget showed the offline form, signed (by ``rt.clock``)."""
    ms = int(rt.clock().timestamp() * 1000)
    return {"form_token": f"{ms}.{_sign(rt, site.id, ms)}", "min_fill_seconds": rt.settings.offline_min_fill_seconds}


def looks_like_a_bot(rt: Runtime, site: SiteRef, website: object, token: object) -> bool:
    """Spam (docs/moderation.md § Spam): the hidden ``website`` field filled in, or a form sent with a
    ``form_token`` younger than ``FRONTDESK_OFFLINE_MIN_FILL_SECONDS`` (or forged). A form without a
    token (an API client, not the widget) is judged by the rate limits only."""
    if website not in (None, ""):
        return True
    if token is None or not rt.settings.offline_min_fill_seconds:
        return False
    if not isinstance(token, str) or len(token) > 64 or "." not in token:
        return True
    ms_text, _, sig = token.partition(".")
    if not ms_text.isdigit() or len(ms_text) > 15 or not hmac.compare_digest(sig, _sign(rt, site.id, int(ms_text))):
        return True
    age = rt.clock().timestamp() - int(ms_text) / 1000
    return age < rt.settings.offline_min_fill_seconds


async def submit_offline_message(rt: Runtime, site: SiteRef, *, token: str | None, name: object, email: object,
                                 message: object, client_id: object = None, page: object = None,
                                 lang: object = None, user_agent: str = "", ip: str = "",
                                 public_base: str, website: object = None, fill_token: object = None) -> dict:
    """The offline form: validate, attach to (or create) the visitor, store the message in its open
    conversation marked offline, and queue one e-mail per notification address — atomically.
    A form that looks like a bot's (``looks_like_a_bot``) is answered like a stored one and dropped."""
    name = check_visitor_name(name)
    email = check_visitor_email(email)
    if not isinstance(message, str):
        raise ActionError("empty_text" if message is None else "invalid_input", "message must be a non-empty string")
    text = check_text(message, rt.settings.max_message_chars)
    if looks_like_a_bot(rt, site, website, fill_token):
        log.info("offline form of site %s dropped as spam (honeypot or filled too fast)", site.id)
        return {"visitor_token": token, "visitor_id": None, "conversation_id": None, "message": None,
                "emails_queued": 0, "duplicate": False}
    if client_id is None:
        client_id = f"offline-{uuid.uuid4().hex}"
    elif not isinstance(client_id, str) or not CLIENT_ID_RE.match(client_id):
        raise ActionError("invalid_input", "client_id must be 1-64 characters of [A-Za-z0-9_.:-]")
    if page is not None and not isinstance(page, dict):
        raise ActionError("invalid_input", "page must be an object {url, title}")
    if lang is not None and not isinstance(lang, str):
        raise ActionError("invalid_input", "lang must be a string")
    lang = clip(lang, 16)
    visitor, token = await identify_visitor(rt, site, token, page=page if isinstance(page, dict) else None,
                                            user_agent=user_agent, ip=ip, lang=lang)
    check_not_banned(rt, site.id, visitor.id, ip)
    language = visitor_language(lang or visitor.language, site)
    queued: list[str] = []  # filled by the hook; it does not run when client_id was already stored
    ran: list[bool] = []

    async def in_transaction(session: AsyncSession, stored: StoredMessage) -> None:
        cid = stored.conversation_id
        ran.append(True)
        queued.clear()  # a batch that rolled back may have run this hook once already
        await session.execute(update(Conversation).where(Conversation.id == cid).values(is_offline=True))
        await session.execute(update(Visitor).where(Visitor.id == visitor.id).values(name=name, email=email))
        now = rt.clock()
        row = await session.get(Site, site.id)
        page_url = (await session.execute(select(Visitor.page_url).where(Visitor.id == visitor.id))).scalar_one()
        assert row is not None
        subject, body_text, body_html = compose.offline_notification(
            language, site=row.name, name=name, email=email, message=text,
            page_url=page_url, panel_link=panel_link(public_base, cid))
        for address in row.notify_emails or []:
            queue_email(session, rt.settings, now=now, site_id=site.id, kind=OutboxKind.offline_notify.value,
                        to_addr=address, subject=subject, text=body_text, html=body_html,
                        reply_to=email, reply_to_name=name, from_name=row.name,
                        conversation_id=cid, message_id=stored.id)
            queued.append(address)

    stored = await store_in_open_conversation(rt, visitor, lambda cid: PendingMessage(
        conversation_id=cid, site_id=site.id, visitor_id=visitor.id, kind="visitor",
        sender=f"v{visitor.id}", text=text, client_id=client_id, require_open=True,
        in_transaction=in_transaction, profanity=profanity_mode(site.widget)))
    cid = stored["conversation_id"]
    if ran and stored["seq"] > 1:
        # an existing conversation just became offline and the visitor got a name/e-mail: tell the panel
        # (a new one is announced by the writer with conversation.created, already marked)
        async with rt.sessions() as session:
            conv = await session.get(Conversation, cid)
            assert conv is not None
            event = await queries.updated_event(session, conv)
        await rt.publish(event)
    if ran:  # the visitor gave a name and e-mail: the visitors list names it too
        async with rt.sessions() as session:
            listed = await visitor_updated_event(session, visitor.id)
        if listed is not None:
            await rt.publish(listed)
    return {"visitor_token": token, "visitor_id": visitor.id, "conversation_id": stored["conversation_id"],
            "message": stored, "emails_queued": len(queued), "duplicate": not ran}
