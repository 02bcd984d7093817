"""E-mail that goes out with a message, queued in the message's own transaction."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from email.utils import parseaddr
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.actions.identity import SiteRef
from frontdesk.actions.writer import StoredMessage
from frontdesk.mail import compose
from frontdesk.mail.outbox import queue_email
from frontdesk.models import Conversation, Message, OutboxKind, Site, Visitor
from frontdesk.serialize import OperatorLike

if TYPE_CHECKING:
    from frontdesk.runtime import Runtime

log = logging.getLogger(__name__)

Hook = Callable[[AsyncSession, StoredMessage], Awaitable[None]]


def panel_link(base: str, conversation_id: int) -> str:
    return f"{base.rstrip('/')}/panel/#/conversations/{conversation_id}"


def visitor_language(visitor_lang: str | None, site: Site | SiteRef) -> str:
    """ru or en: the site's fixed widget language, else the visitor's browser language (ru when unknown)."""
    fixed = (site.widget or {}).get("language")
    if fixed in ("ru", "en"):
        return fixed
    lang = (visitor_lang or "").lower()
    if not lang or lang.startswith("ru"):
        return "ru"
    return "en"


def continue_link(page_url: str | None, allowed_origins: list[str] | None) -> str | None:
    """The page a visitor was on, as the "continue the conversation" link of a reply e-mailed to
    them — only on one of the site's allowed origins. The page URL comes from the visitor's own
    frames: anyone can make it any address, and the e-mail goes out from the site's address.
    A site without allowed origins gets no link."""
    if not page_url or not allowed_origins:
        return None
    parts = urlsplit(page_url)
    if parts.scheme not in ("http", "https") or parts.username or parts.password or not parts.hostname:
        return None
    return page_url if f"{parts.scheme}://{parts.netloc.lower()}" in allowed_origins else None


def reply_email_hook(rt: Runtime, operator: OperatorLike, conversation_id: int) -> Hook:
    """``PendingMessage.in_transaction`` for an operator's reply in an offline conversation:
    queues the e-mail to the visitor (when the visitor left an address) with the reply."""

    async def in_transaction(session: AsyncSession, stored: StoredMessage) -> None:
        conv = await session.get(Conversation, conversation_id)
        assert conv is not None
        visitor = await session.get(Visitor, conv.visitor_id)
        if visitor is None or not visitor.email:
            return
        site = await session.get(Site, conv.site_id)
        assert site is not None
        quoted = (await session.execute(
            select(Message.text).where(Message.conversation_id == conversation_id, Message.kind == "visitor",
                                       Message.seq < stored.seq)
            .order_by(Message.seq.desc()).limit(1))).scalar_one_or_none()
        language = visitor_language(visitor.language, site)
        subject, body_text, body_html = compose.operator_reply(
            language, site=site.name, visitor_name=visitor.name, operator=operator.name, reply=stored.text,
            quoted=quoted, page_url=continue_link(visitor.page_url, site.allowed_origins))
        reply_name, reply_addr = _reply_to(rt.settings.mail_reply_to)
        queue_email(session, rt.settings, now=rt.clock(), site_id=site.id, kind=OutboxKind.operator_reply.value,
                    to_addr=visitor.email, to_name=visitor.name or "", subject=subject, text=body_text,
                    html=body_html, reply_to=reply_addr, reply_to_name=reply_name, from_name=site.name,
                    conversation_id=conversation_id, message_id=stored.id)

    return in_transaction


def _reply_to(setting: str) -> tuple[str, str]:
    if not setting.strip():
        return "", ""
    name, addr = parseaddr(setting)
    if "@" not in addr:
        log.warning("FRONTDESK_MAIL_REPLY_TO %r is not an address; ignored", setting)
        return "", ""
    return name, addr


