"""Public REST for the widget, keyed by site; the visitor is its Bearer token (never a cookie)."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response

from frontdesk.actions import (
    contacts,
    conversations,
    departments,
    invitations,
    offline_form,
    ratings,
    transcripts,
    visitors,
    visits,
)
from frontdesk.actions.errors import ActionError, not_found
from frontdesk.actions.identity import SiteRef, VisitorRef
from frontdesk.web.common import CONTACTS_BODY, OFFLINE_BODY, bearer, client_ip, json_object, public_base
from frontdesk.web.errors import API_ERRORS

router = APIRouter(prefix="/api/v1/widget", tags=["widget"], responses=API_ERRORS)


async def _site(request: Request, site_key: str | None) -> SiteRef:
    return await visitors.site_for_widget(request.app.state.rt, site_key, request.headers.get("origin"))


@router.get("/config")
async def widget_config(request: Request, response: Response, site: str | None = None) -> dict:
    """Widget settings, texts, availability (with ``next_open_at``) and the message limit.
    Cached by the browser for 30 s; at most FRONTDESK_WIDGET_CONFIG_PER_MINUTE per address."""
    rt = request.app.state.rt
    window = request.app.state.config_limiter
    ip = client_ip(request)
    if window.count(ip) >= rt.settings.widget_config_per_minute:
        raise ActionError("rate_limited", "too many requests; try again in a minute", 429)
    window.hit(ip)
    row = await _site(request, site)
    config = await visitors.widget_config(rt, row)
    config["invitations"] = await invitations.widget_rules(rt, row)  # evaluated by static/widget/invite.js
    config["departments"] = await departments.widget_departments(rt, row)  # [] = no choice offered
    # public data of the site; availability is live over the socket, so 30 s old is fine here
    response.headers["Cache-Control"] = "public, max-age=30"
    response.headers["Vary"] = "Origin"
    return config


async def _visitor(request: Request, site_key: str | None) -> VisitorRef:
    """The Bearer token's visitor on this site; a foreign or unknown token → 404 (it learns nothing)."""
    row = await _site(request, site_key)
    token = bearer(request)
    if token is None:
        raise ActionError("unauthorized", "visitor token required", 401)
    try:
        visitor = await visitors.visitor_by_token(request.app.state.rt, row, token)
    except ActionError:
        raise not_found() from None
    visitors.check_not_banned(request.app.state.rt, row.id, visitor.id, client_ip(request))
    return visitor


@router.post("/conversations/{conversation_id}/end")
async def visitor_end(conversation_id: str, request: Request, site: str | None = None) -> dict:
    """The visitor ends its own conversation ("end chat"); Bearer token required."""
    visitor = await _visitor(request, site)
    return await conversations.end_by_visitor(request.app.state.rt, visitor, conversation_id)


@router.post("/conversations/{conversation_id}/rating")
async def visitor_rating(conversation_id: str, request: Request, site: str | None = None) -> dict:
    """``{value, comment?}``: rate the visitor's own closed conversation (a second rating replaces the first)."""
    visitor = await _visitor(request, site)
    data = await json_object(request)
    return await ratings.rate_conversation(request.app.state.rt, visitor, conversation_id, data.get("value"),
                                           data.get("comment"))


@router.post("/conversations/{conversation_id}/transcript")
async def visitor_transcript(conversation_id: str, request: Request, site: str | None = None) -> dict:
    """``{email?}``: e-mail the transcript of the visitor's own conversation to itself (to ``email``,
    which becomes its contact, else to the e-mail it left); Bearer token required. Rate limited."""
    visitor = await _visitor(request, site)
    data = await json_object(request)
    return await transcripts.visitor_transcript(request.app.state.rt, visitor, conversation_id, data.get("email"))


@router.get("/conversations/{conversation_id}/messages")
async def visitor_history(conversation_id: str, request: Request, site: str | None = None,
                          after_seq: str = "0", limit: str = "100") -> dict:
    rt = request.app.state.rt
    row = await _site(request, site)
    token = bearer(request)
    if token is None:
        raise ActionError("unauthorized", "visitor token required", 401)
    try:
        visitor = await visitors.visitor_by_token(rt, row, token)
    except ActionError:
        raise not_found() from None  # a foreign token learns nothing
    return await conversations.visitor_messages(rt, visitor, conversation_id, after_seq, limit)


@router.post("/offline", status_code=201, openapi_extra=OFFLINE_BODY)
async def offline_message(request: Request, site: str | None = None) -> dict:
    """The offline form. Body ``{name, email, message, client_id?, page?: {url, title}, lang?}``;
    optional ``Authorization: Bearer <visitor token>`` attaches it to that visitor."""
    rt = request.app.state.rt
    row = await _site(request, site)
    data = await json_object(request)
    ip = client_ip(request)
    visitors.check_not_banned(rt, row.id, None, ip)
    limiter = request.app.state.offline_limiter
    if not await limiter.reserve(ip, row.id, rt.settings.offline_rate_limit):
        raise ActionError("rate_limited", "too many offline messages from this address; try again later", 429)
    try:
        result = await offline_form.submit_offline_message(
            rt, row, token=bearer(request), name=data.get("name"), email=data.get("email"),
            message=data.get("message"), client_id=data.get("client_id"), page=data.get("page"),
            lang=data.get("lang"), user_agent=request.headers.get("user-agent", ""), ip=ip,
            public_base=public_base(request), website=data.get("website"), fill_token=data.get("form_token"))
    except BaseException:
        await limiter.release(ip, row.id)
        raise
    if result["duplicate"]:
        await limiter.release(ip, row.id)
    return result


@router.get("/form-token")
async def offline_form_token(request: Request, response: Response, site: str | None = None) -> dict:
    """The widget asks for it when it shows the offline form and sends it back as ``form_token``:
    a form sent sooner than ``FRONTDESK_OFFLINE_MIN_FILL_SECONDS`` after is dropped as spam."""
    rt = request.app.state.rt
    row = await _site(request, site)
    response.headers["Cache-Control"] = "no-store"
    return offline_form.form_token(rt, row)


@router.post("/contacts", openapi_extra=CONTACTS_BODY)
async def visitor_contacts(request: Request, site: str | None = None) -> dict:
    """The visitor leaves contacts: ``{email?, phone?, name?}`` (at least e-mail or phone); Bearer token required."""
    rt = request.app.state.rt
    row = await _site(request, site)
    token = bearer(request)
    if token is None:
        raise ActionError("unauthorized", "visitor token required", 401)
    data = await json_object(request)
    visitor = await visitors.visitor_by_token(rt, row, token)
    visitors.check_not_banned(rt, row.id, visitor.id, client_ip(request))
    return await contacts.save_contacts(rt, visitor, email=data.get("email"), phone=data.get("phone"),
                                        name=data.get("name"))


@router.post("/pageviews")
async def page_views(request: Request, site: str | None = None) -> dict:
    """The loader's page views: ``{token?, views: [{url, title?, referrer?, ago?}], user?: {name?,
    email?, phone?, <custom key>: value…}}`` (``ago`` = ms since a view queued offline; ``user`` =
    what the site gave ``window.frontdesk.setUser``, then ``views`` may be empty). The token is in
    the body, not a header, so the request is a CORS "simple" one (no preflight). Answers
    ``{visitor_token, visitor_id, visit}``: ``visitor_token`` only when a new visitor was created
    (no token sent). At most FRONTDESK_PAGEVIEWS_PER_MINUTE reports per visitor and
    FRONTDESK_PAGEVIEWS_PER_ADDRESS per address a minute (429 ``rate_limited``)."""
    rt = request.app.state.rt
    row = await _site(request, site)
    data = await json_object(request)
    ip = client_ip(request)
    token = data.get("token")
    by_visitor, by_address = request.app.state.pageview_limiters
    per_visitor, per_address = rt.settings.pageviews_per_minute, rt.settings.pageviews_per_address
    visitor_key = (row.id, token[:64]) if isinstance(token, str) else None
    if (per_address and by_address.count(ip) >= per_address) \
            or (per_visitor and visitor_key is not None and by_visitor.count(visitor_key) >= per_visitor):
        raise ActionError("rate_limited", "too many page-view reports; send them again in a minute", 429)
    if per_address:
        by_address.hit(ip)
    if per_visitor and visitor_key is not None:
        by_visitor.hit(visitor_key)
    return await visits.record_page_views(rt, row, token, data.get("views"), user=data.get("user"),
                                          user_agent=request.headers.get("user-agent", ""), ip=ip)
