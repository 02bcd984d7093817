"""Visits and page views (actions/visits.py): a visit ends after 30 minutes without a page view
(moved by the HandClock, never slept), the source is decided at the start of each visit, time on
page is the gap to the next view, queued views are dated back, and operators of the site get
``visitor.updated``."""
from __future__ import annotations

import pytest

from frontdesk.actions import conversations, operators, sites, visits
from frontdesk.actions.errors import ActionError
from frontdesk.actions.identity import OperatorRef, SiteRef

SHOP = "https://shop.example.ru"


async def _setup(rt):
    async with rt.sessions() as session, session.begin():
        site = SiteRef.of(await sites.add_site(session, name="Shop", origins=[SHOP]))
        op = OperatorRef.of(await operators.add_operator(session, email="a@example.com", name="Анна",
                                                         password="correct horse", admin=True))
    return site, op


def _view(path, referrer="", title="", ago=0):
    return {"url": SHOP + path, "title": title or path, "referrer": referrer, "ago": ago}


async def test_a_visit_ends_after_thirty_minutes_without_a_page_view(rt):
    site, op = await _setup(rt)
    published = []
    publish = rt.publish

    async def keep(*events):
        published.extend(events)
        await publish(*events)

    rt.publish = keep
    first = await visits.record_page_views(
        rt, site, None, [_view("/?utm_source=yandex&utm_medium=cpc&yclid=123", "https://yandex.ru/")],
        user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/120.0.0.0 Safari/537.36", ip="77.88.8.8")
    token = first["visitor_token"]
    assert token and first["visit"] == 1
    rt.clock.advance(40)
    await visits.record_page_views(rt, site, token, [_view("/catalog", SHOP + "/")])
    rt.clock.advance(29 * 60)  # 29 minutes on the catalog: still the same visit
    again = await visits.record_page_views(rt, site, token, [_view("/product", SHOP + "/catalog")])
    assert again["visit"] == 1 and again["visitor_token"] is None

    ctx = await visits.visitor_context(rt, op, first["visitor_id"])
    assert [p["url"] for p in ctx["pages"]] == [SHOP + "/?utm_source=yandex&utm_medium=cpc&yclid=123",
                                              SHOP + "/catalog", SHOP + "/product"]
    assert [p["seconds"] for p in ctx["pages"]] == [40, 29 * 60, None]
    assert ctx["visit"]["source"]["label"] == {"ru": "реклама · Яндекс", "en": "ads · Yandex"}
    assert ctx["visit"]["location"]["country_code"] == "RU"
    assert ctx["visit"]["device"]["label"]["ru"] == "Chrome 120 · Windows 10 · компьютер"
    assert ctx["returning"] is False and ctx["visitor"]["visits"] == 1

    rt.clock.advance(30 * 60 + 1)  # more than 30 minutes since the last view: a new visit
    third = await visits.record_page_views(rt, site, token, [_view("/cart", "https://www.google.com/")])
    assert third["visit"] == 2
    ctx = await visits.visitor_context(rt, op, first["visitor_id"])
    assert [p["url"] for p in ctx["pages"]] == [SHOP + "/cart"]
    assert ctx["visit"]["source"]["label"]["ru"] == "поиск · Google"
    assert ctx["returning"] is True and ctx["visitor"]["visits"] == 2
    assert ctx["first_visit_at"] < ctx["visitor"]["visit"]["started_at"]

    # every report told the site's operators, with the visitors-list row
    rows = [e.payload["visitor"] for e in published if e.name == "visitor.updated"]
    assert [r["page_url"] for r in rows] == [SHOP + "/?utm_source=yandex&utm_medium=cpc&yclid=123",
                                             SHOP + "/catalog", SHOP + "/product", SHOP + "/cart"]
    assert [r["visit"]["number"] for r in rows] == [1, 1, 1, 2]
    assert all(e.site_id == site.id for e in published if e.name == "visitor.updated")


async def test_views_queued_offline_are_dated_back_and_can_split_visits(rt):
    site, op = await _setup(rt)
    hour = 3600 * 1000
    out = await visits.record_page_views(rt, site, None, [
        _view("/a", ago=2 * hour), _view("/b", SHOP + "/a", ago=2 * hour - 60_000), _view("/c", SHOP + "/b", ago=0)])
    assert out["visit"] == 2  # /a and /b an hour and more before /c: two visits
    ctx = await visits.visitor_context(rt, op, out["visitor_id"])
    assert [p["url"] for p in ctx["pages"]] == [SHOP + "/c"]
    assert ctx["visit"]["source"]["kind"] == "internal"  # /c came from the site itself
    assert ctx["visitor"]["visits"] == 2


async def test_the_online_list_holds_open_visits_and_knows_who_is_chatting(rt):
    site, op = await _setup(rt)
    a = await visits.record_page_views(rt, site, None, [_view("/")])
    rt.clock.advance(60)
    b = await visits.record_page_views(rt, site, None, [_view("/catalog")])
    from frontdesk.actions import visitors
    vb = await visitors.visitor_by_token(rt, site, b["visitor_token"])
    await conversations.send_visitor_message(rt, vb, "c-1", "Здравствуйте")
    listed = await visits.online_visitors(rt, op)
    rows = {r["id"]: r for r in listed["visitors"]}
    assert set(rows) == {a["visitor_id"], b["visitor_id"]}
    assert rows[b["visitor_id"]]["chatting"] is True and rows[a["visitor_id"]]["chatting"] is False
    rt.clock.advance(30 * 60 - 30)  # a's visit is over, b's not yet
    assert [r["id"] for r in (await visits.online_visitors(rt, op))["visitors"]] == [b["visitor_id"]]


async def test_bad_reports_are_refused(rt):
    site, _ = await _setup(rt)
    for views in (None, [], [{"url": "javascript:alert(1)"}], ["x"], [_view("/")] * 21):
        with pytest.raises(ActionError) as err:
            await visits.record_page_views(rt, site, None, views)
        assert err.value.code == "invalid_input"
    with pytest.raises(ActionError) as err:
        await visits.record_page_views(rt, site, "f" * 64, [_view("/")])
    assert err.value.code == "unauthorized"


# --- window.frontdesk.setUser: custom fields and the visitor's name ---------------------------------

async def test_set_user_fields_are_stored_merged_and_name_the_visitor(rt):
    site, op = await _setup(rt)
    published = []
    publish = rt.publish

    async def keep(*events):
        published.extend(events)
        await publish(*events)

    rt.publish = keep
    # setUser before the first page view was answered: the same report creates the visitor
    first = await visits.record_page_views(rt, site, None, [_view("/")], user={
        "name": "  Ирина   Петрова ", "email": "Irina@Example.com", "plan": "Премиум", "orders": 3,
        "vip": True, "ltv": 1234.5})
    token, vid = first["visitor_token"], first["visitor_id"]
    ctx = await visits.visitor_context(rt, op, vid)
    row = ctx["visitor"]
    assert row["name"] == "Ирина Петрова" and row["email"] == "irina@example.com"
    assert row["display_name"] == "Ирина Петрова"
    # a later call (after the loader): only fields, no page view; null removes a key, others stay
    out = await visits.record_page_views(rt, site, token, [], user={"plan": "Бизнес", "vip": None, "phone": "+7 999 123-45-67"})
    assert out["visitor_token"] is None and out["visitor_id"] == vid
    from frontdesk.actions import visitors
    ref = await visitors.visitor_by_token(rt, site, token)
    await conversations.send_visitor_message(rt, ref, "c-1", "Здравствуйте")
    ctx = await visits.visitor_context(rt, op, vid)
    assert ctx["conversations"][0]["visitor"]["fields"] == {"plan": "Бизнес", "orders": "3", "ltv": "1234.5"}
    assert ctx["conversations"][0]["visitor"]["phone"] == "+7 999 123-45-67"
    assert ctx["conversations"][0]["visitor"]["display_name"] == "Ирина Петрова"
    # with an open conversation a change of fields updates the conversation for the panel
    published.clear()
    await visits.record_page_views(rt, site, token, [], user={"name": "Ира"})
    updated = [e for e in published if e.name == "conversation.updated"]
    assert updated and updated[0].payload["conversation"]["visitor"]["display_name"] == "Ира"
    assert [e.payload["visitor"]["display_name"] for e in published if e.name == "visitor.updated"] == ["Ира"]
    # the same fields again change nothing: no conversation.updated
    published.clear()
    await visits.record_page_views(rt, site, token, [], user={"name": "Ира"})
    assert not [e for e in published if e.name == "conversation.updated"]


async def test_an_email_alone_names_the_visitor(rt):
    site, op = await _setup(rt)
    out = await visits.record_page_views(rt, site, None, [_view("/")], user={"email": "buyer@example.com"})
    row = (await visits.online_visitors(rt, op))["visitors"][0]
    assert row["id"] == out["visitor_id"] and row["display_name"] == "buyer@example.com"
    anon = await visits.record_page_views(rt, site, None, [_view("/")])
    rows = {r["id"]: r for r in (await visits.online_visitors(rt, op))["visitors"]}
    assert rows[anon["visitor_id"]]["display_name"] is None  # the panel says "Посетитель #N"


@pytest.mark.parametrize(("user", "code"), [
    ("Ирина", "invalid_field"),                                   # not an object
    ({"name": "a\nb"}, "invalid_name"),
    ({"email": "not an address"}, "invalid_email"),
    ({"phone": "12"}, "invalid_phone"),
    ({"x" * 41: "v"}, "invalid_field"),                           # key too long
    ({"": "v"}, "invalid_field"),
    ({"a b": "v"}, "invalid_field"),                              # not a name
    ({"-x": "v"}, "invalid_field"),
    ({"<b>": "v"}, "invalid_field"),
    ({"source": "v"}, "invalid_field"),                           # a card row of its own
    ({"Page": "v"}, "invalid_field"),
    ({"plan": "x" * 501}, "invalid_field"),                       # value too long
    ({"plan": "a\u0000b"}, "invalid_field"),                      # control character
    ({"plan": "a\nb"}, "invalid_field"),
    ({"plan": "\ud800"}, "invalid_field"),                        # lone surrogate: not well-formed
    ({"\udc00": "v"}, "invalid_field"),
    ({"plan": ["a"]}, "invalid_field"),
    ({"plan": {"a": 1}}, "invalid_field"),
    ({"plan": float("inf")}, "invalid_field"),
    ({f"k{i}": "v" for i in range(24)}, "invalid_field"),         # too many
])
async def test_bad_user_fields_are_refused_with_a_clear_code(rt, user, code):
    site, _ = await _setup(rt)
    with pytest.raises(ActionError) as err:
        await visits.record_page_views(rt, site, None, [_view("/")], user=user)
    assert err.value.code == code and err.value.status in (400, 422)


async def test_custom_fields_are_capped_per_visitor_after_merging(rt):
    site, _ = await _setup(rt)
    out = await visits.record_page_views(rt, site, None, [_view("/")], user={f"a{i}": "v" for i in range(20)})
    with pytest.raises(ActionError) as err:
        await visits.record_page_views(rt, site, out["visitor_token"], [], user={"one_more": "v"})
    assert err.value.code == "invalid_field"
    # removing one makes room
    await visits.record_page_views(rt, site, out["visitor_token"], [], user={"a0": None, "one_more": "Кириллица ✓"})


async def test_a_report_without_views_needs_user_fields(rt):
    site, _ = await _setup(rt)
    with pytest.raises(ActionError) as err:
        await visits.record_page_views(rt, site, None, [])
    assert err.value.code == "invalid_input"
    # fields only, from a first-time visitor: the visitor is created, with no visit yet
    out = await visits.record_page_views(rt, site, None, [], user={"name": "Олег"})
    assert out["visitor_token"] and out["visit"] == 0


async def test_reports_that_arrive_together_are_stored_in_one_transaction_each_with_its_own_answer(rt):
    """PageViewWriter (group commit): 40 reports at once — new visitors, a known visitor's pages, an
    unknown token, refused fields — take far fewer commits than reports; each caller gets its own
    answer and nothing of a refused report is stored."""
    import asyncio

    from sqlalchemy import event

    site, op = await _setup(rt)
    known = await visits.record_page_views(rt, site, None, [_view("/")])
    commits = []

    def count(_conn):
        commits.append(1)

    event.listen(rt.engine.sync_engine, "commit", count)
    writer = visits.PageViewWriter(rt)
    writer.start()
    rt.page_views = writer
    try:
        calls = [visits.record_page_views(rt, site, None, [_view(f"/new/{i}")]) for i in range(20)]
        calls += [visits.record_page_views(rt, site, known["visitor_token"], [_view(f"/p/{i}")]) for i in range(15)]
        calls += [visits.record_page_views(rt, site, "e" * 64, [_view("/x")]) for _ in range(3)]
        calls += [visits.record_page_views(rt, site, known["visitor_token"], [], user={f"k{i}": "v" for i in range(21)}),
                  visits.record_page_views(rt, site, known["visitor_token"], [_view("/named")], user={"name": "Пётр"})]
        results = await asyncio.gather(*calls, return_exceptions=True)
    finally:
        await writer.stop()
        rt.page_views = None
        event.remove(rt.engine.sync_engine, "commit", count)
    new = results[:20]
    assert all(isinstance(r, dict) and r["visitor_token"] and r["visit"] == 1 for r in new), new
    assert len({r["visitor_id"] for r in new}) == 20
    assert all(isinstance(r, dict) and r["visitor_id"] == known["visitor_id"] for r in results[20:35])
    assert all(isinstance(r, ActionError) and r.code == "unauthorized" for r in results[35:38])
    assert isinstance(results[38], ActionError) and results[38].code == "invalid_field"
    assert isinstance(results[39], dict)
    # new visitors need their device first (a second pass), so at most a few commits for 40 reports
    assert len(commits) <= 8, len(commits)
    ctx = await visits.visitor_context(rt, op, known["visitor_id"])
    assert [p["url"] for p in ctx["pages"]] == [SHOP + "/"] + [SHOP + f"/p/{i}" for i in range(15)] + [SHOP + "/named"]
    assert ctx["visitor"]["display_name"] == "Пётр" and ctx["conversations"] == []
    rows = (await visits.online_visitors(rt, op))["visitors"]
    assert len(rows) == 21


async def test_contacts_name_the_visitor_in_the_visitors_list_at_once(rt):
    from frontdesk.actions import contacts, visitors

    site, op = await _setup(rt)
    out = await visits.record_page_views(rt, site, None, [_view("/")])
    published = []
    publish = rt.publish

    async def keep(*events):
        published.extend(events)
        await publish(*events)

    rt.publish = keep
    ref = await visitors.visitor_by_token(rt, site, out["visitor_token"])
    await contacts.save_contacts(rt, ref, email="olga@example.com", name="Ольга")
    rows = [e.payload["visitor"] for e in published if e.name == "visitor.updated"]
    assert [r["display_name"] for r in rows] == ["Ольга"] and rows[0]["visit"]["number"] == 1
    assert (await visits.online_visitors(rt, op))["visitors"][0]["display_name"] == "Ольга"


async def test_the_operators_field_order_takes_custom_field_names(rt):
    _, op = await _setup(rt)
    saved = await visits.set_card_fields(rt, op, ["plan", "visits", "заказов"], ["vip", "phone"])
    assert saved["fields"][:3] == ["plan", "visits", "заказов"] and "name" in saved["fields"]
    assert saved["hidden"] == ["vip", "phone"]
    assert (await visits.card_fields(rt, op)) == saved
    for order in (["<b>"], ["Page"], ["a b"], ["plan", "plan"], [f"k{i}" for i in range(visits.MAX_CARD_FIELDS + 1)],
                  ["\ud800"], [1]):
        with pytest.raises(ActionError) as err:
            await visits.set_card_fields(rt, op, order, [])
        assert err.value.code == "invalid_input"
