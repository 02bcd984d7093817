"""The hot paths of issue 18 keep their meaning: the operator's welcome in a constant number of
queries, the per-node cache forgets what an event changed, a returning visitor is not written on
its hello (its last-seen time is queued), a retry of a stored message answers the stored row."""
from __future__ import annotations

import re

from sqlalchemy import event, select

from frontdesk import events as ev
from frontdesk.actions import conversations, operators, sites, visitors
from frontdesk.actions.identity import OperatorRef, SiteRef
from frontdesk.models import Base, Visitor
from tests.support import wait_for


def _ours(statement: str) -> bool:
    """A statement that reads one of frontdesk's tables (not a driver's or dialect's own question)."""
    return "pg_catalog" not in statement and any(
        re.search(rf"\b{name}\b", statement) for name in Base.metadata.tables)


def count_statements(rt) -> list[str]:
    seen: list[str] = []

    @event.listens_for(rt.engine.sync_engine, "before_cursor_execute")
    def _count(conn, cursor, statement, params, context, executemany) -> None:
        seen.append(statement)

    return seen


async def _admin(rt) -> OperatorRef:
    async with rt.sessions() as session, session.begin():
        return OperatorRef.of(await operators.add_operator(session, email="a@example.com", name="Анна",
                                                           password="correct horse", admin=True))


async def test_the_operator_welcome_takes_the_same_queries_for_2_or_30_conversations(rt):
    admin = await _admin(rt)
    async with rt.sessions() as session, session.begin():
        site = SiteRef.of(await sites.add_site(session, name="Shop"))
    announced: set[int] = set()
    publish = rt.publish

    async def recording(*events) -> None:
        announced.update(e.conversation_id for e in events if e.name == ev.CONVERSATION_CREATED)
        await publish(*events)

    rt.publish = recording
    counts = []
    for total in (2, 30):
        while len(await conversations.list_for_operator(rt, admin)) < total:
            visitor, _ = await visitors.identify_visitor(rt, site, None)
            sent = await conversations.send_visitor_message(rt, visitor, "c-1", "Здравствуйте")
            # the writer announces a new conversation after the ack (its own reads): not the welcome's
            await wait_for(lambda cid=sent["conversation_id"]: cid in announced)
        seen = count_statements(rt)
        listed = await conversations.list_for_operator(rt, admin)
        assert len(listed) == total
        # our statements only: on a new connection the driver and the dialect ask the server about
        # itself (pg_catalog types, current_schema(), version): those read none of our tables
        counts.append(len([s for s in seen if s.lstrip().upper().startswith("SELECT") and _ours(s)]))
    assert counts[0] == counts[1]


async def test_availability_follows_the_operator_status_through_the_cache(rt):
    admin = await _admin(rt)
    async with rt.sessions() as session, session.begin():
        site = SiteRef.of(await sites.add_site(session, name="Shop"))
    assert (await visitors.availability(rt, site))["operators_online"] is False
    await operators.set_status(rt, admin.id, "online")
    assert (await visitors.availability(rt, site))["operators_online"] is True
    await operators.set_status(rt, admin.id, "away")
    assert (await visitors.availability(rt, site))["operators_online"] is False


async def test_a_site_change_reaches_the_next_widget_hello(rt):
    async with rt.sessions() as session, session.begin():
        site = SiteRef.of(await sites.add_site(session, name="Shop", origins=["https://a.example"]))
    assert (await visitors.site_for_widget(rt, site.site_key, "https://a.example")).name == "Shop"
    await sites.update_site(rt, site.id, name="Shop 2", origins=["https://b.example"])
    ref = await visitors.site_for_widget(rt, site.site_key, "https://b.example")
    assert ref.name == "Shop 2"


async def test_a_returning_visitor_is_not_written_on_hello_but_its_last_seen_is_queued(rt):
    async with rt.sessions() as session, session.begin():
        site = SiteRef.of(await sites.add_site(session, name="Shop"))
    page = {"url": "https://shop.example/a", "title": "A"}
    first, token = await visitors.identify_visitor(rt, site, None, page=page, user_agent="UA", ip="1.2.3.4")
    rt.clock.advance(60)
    seen = count_statements(rt)
    again, _ = await visitors.identify_visitor(rt, site, token, page=page, user_agent="UA", ip="1.2.3.4")
    assert again.id == first.id
    assert not [s for s in seen if s.lstrip().upper().startswith(("UPDATE", "INSERT"))]
    await rt.writer.flush_touches()
    async with rt.sessions() as session:
        row = (await session.execute(select(Visitor).where(Visitor.id == first.id))).scalar_one()
    assert row.last_seen_at == rt.clock()
    # a different page is a real change: written at once
    moved, _ = await visitors.identify_visitor(rt, site, token, page={"url": "https://shop.example/b"},
                                               user_agent="UA", ip="1.2.3.4")
    async with rt.sessions() as session:
        row = (await session.execute(select(Visitor).where(Visitor.id == moved.id))).scalar_one()
    assert row.page_url == "https://shop.example/b"


async def test_a_retry_of_a_stored_operator_message_answers_the_stored_row(rt):
    admin = await _admin(rt)
    async with rt.sessions() as session, session.begin():
        site = SiteRef.of(await sites.add_site(session, name="Shop"))
    visitor, _ = await visitors.identify_visitor(rt, site, None)
    first = await conversations.send_visitor_message(rt, visitor, "v-1", "Здравствуйте")
    cid = first["conversation_id"]
    reply = await conversations.send_operator_message(rt, admin, cid, "o-1", "Добрый день")
    again = await conversations.send_operator_message(rt, admin, cid, "o-1", "Добрый день")
    assert again == reply and reply["seq"] == 2 and reply["author"]["name"] == "Анна"
    assert await conversations.send_visitor_message(rt, visitor, "v-1", "Здравствуйте") == first
