"""Ban actions in process, on SQLite and PostgreSQL, with a hand-moved clock: each kind (CIDR edge
cases included) refuses exactly what it covers, expiry by the clock, lifting at once, overlapping
bans, the node index reloaded from the database, rights per site, bad input."""
from __future__ import annotations

from datetime import timedelta

import pytest

from frontdesk import events as ev
from frontdesk.actions import bans, conversations, operators, sites, visitors
from frontdesk.actions.errors import ActionError
from frontdesk.actions.identity import OperatorRef, SiteRef


async def _world(rt):
    async with rt.sessions() as session, session.begin():
        site = SiteRef.of(await sites.add_site(session, name="Shop"))
        other = SiteRef.of(await sites.add_site(session, name="Other"))
        boss = OperatorRef.of(await operators.add_operator(session, email="boss@example.com", name="Босс",
                                                           password="correct horse", admin=True))
        anna = OperatorRef.of(await operators.add_operator(session, email="a@example.com", name="Анна",
                                                           password="correct horse", site_ids=[site.id]))
        oleg = OperatorRef.of(await operators.add_operator(session, email="o@example.com", name="Олег",
                                                           password="correct horse", site_ids=[other.id]))
    published: list[ev.Event] = []
    publish = rt.publish

    async def recording(*events) -> None:
        published.extend(events)
        await publish(*events)

    rt.publish = recording
    return site, other, boss, anna, oleg, published


def banned(rt, site: SiteRef, visitor_id: int | None, ip: str | None) -> bool:
    try:
        visitors.check_not_banned(rt, site.id, visitor_id, ip)
    except ActionError as exc:
        assert exc.code == "banned" and exc.status == 403
        return True
    return False


@pytest.mark.parametrize("kind,value,inside,outside", [
    ("ip", "203.0.113.7", ["203.0.113.7", "::ffff:203.0.113.7"], ["203.0.113.8", "2001:db8::1", None]),
    ("ip", "2001:DB8:0:0::1", ["2001:db8::1"], ["2001:db8::2", "203.0.113.7"]),
    ("subnet", "198.51.100.77/24", ["198.51.100.1", "198.51.100.255", "::ffff:198.51.100.9"], ["198.51.101.0"]),
    ("subnet", "203.0.113.7/32", ["203.0.113.7"], ["203.0.113.6"]),
    ("subnet", "2001:db8::1/128", ["2001:db8::1"], ["2001:db8::2"]),
    ("subnet", "2001:db8::/32", ["2001:db8:ffff::1"], ["2001:db9::1", "10.0.0.1"]),
    ("subnet", "0.0.0.0/0", ["10.0.0.1", "::ffff:1.2.3.4"], ["2001:db8::1"]),
    ("subnet", "::/0", ["2001:db8::1", "10.0.0.1"], []),
    ("subnet", "::ffff:10.1.2.0/120", ["10.1.2.3"], ["10.1.3.3"]),
])
async def test_each_kind_refuses_exactly_what_it_covers(rt, kind, value, inside, outside):
    site, other, boss, anna, _oleg, published = await _world(rt)
    ban = await bans.create_ban(rt, anna, {"kind": kind, "value": value, "expiry": "1d", "site_id": site.id})
    assert ban["author"]["name"] == "Анна" and ban["site_id"] == site.id
    assert [e.name for e in published] == [ev.BAN_CHANGED]
    for ip in inside:
        assert banned(rt, site, None, ip), ip
        assert not banned(rt, other, None, ip), ip  # a ban is one site's
    for ip in outside:
        assert not banned(rt, site, None, ip), ip


async def test_normalised_values_are_stored_and_shown(rt):
    site, _other, _boss, anna, _oleg, _ = await _world(rt)
    made = [await bans.create_ban(rt, anna, {"kind": k, "value": v, "expiry": "1h", "site_id": site.id})
            for k, v in (("ip", "::ffff:1.2.3.4"), ("subnet", "192.168.1.77/24"), ("ip", "2001:0DB8::0001"))]
    assert [b["value"] for b in made] == ["1.2.3.4", "192.168.1.0/24", "2001:db8::1"]


async def test_a_visitor_ban_covers_that_visitor_and_not_its_address(rt):
    site, _other, _boss, anna, _oleg, _ = await _world(rt)
    v, _ = await visitors.identify_visitor(rt, site, None, ip="203.0.113.7")
    ban = await bans.create_ban(rt, anna, {"kind": "visitor", "visitor_id": v.id, "expiry": "permanent"})
    assert ban["value"] == str(v.id) and ban["expires_at"] is None
    assert banned(rt, site, v.id, "198.51.100.1")
    assert not banned(rt, site, None, "203.0.113.7")  # a fresh visitor from the same address
    assert not banned(rt, site, v.id + 1, "203.0.113.7")


async def test_expiry_is_by_the_clock_and_lifting_is_at_once(rt):
    site, _other, _boss, anna, _oleg, published = await _world(rt)
    hour = await bans.create_ban(rt, anna, {"kind": "ip", "value": "203.0.113.7", "expiry": "1h", "site_id": site.id})
    assert banned(rt, site, None, "203.0.113.7")
    rt.clock.advance(3599)
    assert banned(rt, site, None, "203.0.113.7")
    rt.clock.advance(1)  # a ban expiring exactly now is over
    assert not banned(rt, site, None, "203.0.113.7")
    assert (await bans.list_bans(rt, anna))["bans"] == []
    ended = (await bans.list_bans(rt, anna, status="ended"))["bans"]
    assert [b["id"] for b in ended] == [hour["id"]] and not ended[0]["active"]
    # custom: an ISO time read in the operator's zone; lifted at once
    when = (rt.clock() + timedelta(days=2)).astimezone().replace(tzinfo=None).isoformat(timespec="minutes")
    custom = await bans.create_ban(rt, anna, {"kind": "ip", "value": "203.0.113.8", "expiry": "custom",
                                              "custom": when, "tz": "UTC", "site_id": site.id})
    assert custom["expires_at"].startswith(when[:10])
    assert banned(rt, site, None, "203.0.113.8")
    lifted = await bans.lift_ban(rt, anna, custom["id"])
    assert lifted["lifted_by"]["name"] == "Анна" and lifted["lifted_at"]
    assert not banned(rt, site, None, "203.0.113.8")
    n = len(published)
    await bans.lift_ban(rt, anna, custom["id"])  # again: nothing changes, nothing published
    assert len(published) == n


async def test_overlapping_bans_the_longest_wins_and_lifting_one_reveals_the_other(rt):
    site, _other, _boss, anna, _oleg, _ = await _world(rt)
    wide = await bans.create_ban(rt, anna, {"kind": "subnet", "value": "10.0.0.0/8", "expiry": "1w",
                                            "site_id": site.id})
    narrow = await bans.create_ban(rt, anna, {"kind": "ip", "value": "10.1.2.3", "expiry": "1h", "site_id": site.id})
    assert rt.cache.bans.match(site.id, None, "10.1.2.3", rt.clock()).id == wide["id"]
    await bans.lift_ban(rt, anna, wide["id"])
    assert rt.cache.bans.match(site.id, None, "10.1.2.3", rt.clock()).id == narrow["id"]
    assert not banned(rt, site, None, "10.9.9.9")


async def test_the_node_index_is_rebuilt_from_the_database(rt):
    site, _other, _boss, anna, _oleg, _ = await _world(rt)
    await bans.create_ban(rt, anna, {"kind": "ip", "value": "203.0.113.7", "expiry": "1h", "site_id": site.id})
    gone = await bans.create_ban(rt, anna, {"kind": "ip", "value": "203.0.113.9", "expiry": "1h", "site_id": site.id})
    await bans.lift_ban(rt, anna, gone["id"])
    rt.cache.bans.by_site.clear()  # a node that just started (or missed events in a broker outage)
    assert await bans.load_active(rt) == 1
    assert banned(rt, site, None, "203.0.113.7") and not banned(rt, site, None, "203.0.113.9")


async def test_banning_from_a_dialog_closes_it_with_a_note_only_operators_see(rt):
    site, _other, _boss, anna, _oleg, published = await _world(rt)
    v, _ = await visitors.identify_visitor(rt, site, None, ip="203.0.113.7")
    cid = (await conversations.send_visitor_message(rt, v, "c1", "Купи рекламу"))["conversation_id"]
    ban = await bans.create_ban(rt, anna, {"kind": "ip", "conversation_id": cid, "reason": "спам", "expiry": "1d"})
    assert ban["value"] == "203.0.113.7" and ban["conversation_id"] == cid and ban["visitor_id"] == v.id
    conv = await conversations.get_for_operator(rt, anna, cid)
    assert conv["status"] == "closed"
    page = await conversations.operator_messages(rt, anna, cid, 0, 100)
    note = page["messages"][-1]
    assert note["kind"] == "note" and "спам" in note["text"] and "203.0.113.7" in note["text"]
    # the visitor's own history has no trace of it
    mine = await conversations.visitor_messages(rt, v, cid, 0, 100)
    assert [m["kind"] for m in mine["messages"]] == ["visitor"]
    assert banned(rt, site, v.id, "203.0.113.7")


async def test_rights_follow_the_sites(rt):
    site, other, boss, anna, oleg, _ = await _world(rt)
    v, _ = await visitors.identify_visitor(rt, site, None, ip="203.0.113.7")
    cid = (await conversations.send_visitor_message(rt, v, "c1", "Привет"))["conversation_id"]
    for attempt in ({"kind": "ip", "value": "1.2.3.4", "expiry": "1h", "site_id": site.id},
                    {"kind": "ip", "visitor_id": v.id, "expiry": "1h"},
                    {"kind": "ip", "conversation_id": cid, "expiry": "1h"},
                    {"kind": "visitor", "value": str(v.id), "expiry": "1h", "site_id": other.id}):
        with pytest.raises(ActionError) as refused:
            await bans.create_ban(rt, oleg, attempt)
        assert refused.value.code == "not_found", attempt
    ban = await bans.create_ban(rt, anna, {"kind": "ip", "value": "1.2.3.4", "expiry": "1h", "site_id": site.id})
    assert (await bans.list_bans(rt, oleg))["bans"] == []  # another site's operator sees none of them
    assert [b["id"] for b in (await bans.list_bans(rt, boss))["bans"]] == [ban["id"]]
    with pytest.raises(ActionError) as refused:
        await bans.lift_ban(rt, oleg, ban["id"])
    assert refused.value.code == "not_found"
    assert (await bans.lift_ban(rt, boss, ban["id"]))["lifted_by"]["name"] == "Босс"


@pytest.mark.parametrize("body,code", [
    ({"kind": "ip", "value": "300.1.2.3", "expiry": "1h"}, "invalid_ban_value"),
    ({"kind": "ip", "value": "10.0.0.0/8", "expiry": "1h"}, "invalid_ban_value"),
    ({"kind": "subnet", "value": "10.0.0.1", "expiry": "1h"}, "invalid_ban_value"),
    ({"kind": "subnet", "value": "fe80::/10%eth0", "expiry": "1h"}, "invalid_ban_value"),
    ({"kind": "cookie", "value": "x", "expiry": "1h"}, "invalid_ban_value"),
    ({"kind": "ip", "value": 12, "expiry": "1h"}, "invalid_ban_value"),
    ({"kind": "ip", "value": "", "expiry": "1h"}, "invalid_ban_value"),
    ({"kind": "visitor", "value": "999999", "expiry": "1h"}, "not_found"),
    ({"kind": "ip", "value": "1.2.3.4", "expiry": "never"}, "invalid_expiry"),
    ({"kind": "ip", "value": "1.2.3.4"}, "invalid_expiry"),
    ({"kind": "ip", "value": "1.2.3.4", "expiry": "custom", "custom": "2001-01-01T00:00"}, "invalid_expiry"),
    ({"kind": "ip", "value": "1.2.3.4", "expiry": "custom", "custom": "завтра"}, "invalid_expiry"),
    ({"kind": "ip", "value": "1.2.3.4", "expiry": "1h", "tz": "Mars/Olympus"}, "invalid_input"),
    ({"kind": "ip", "value": "1.2.3.4", "expiry": "1h", "reason": "\ud800"}, "invalid_text"),
    ({"kind": "ip", "value": "1.2.3.4", "expiry": "1h", "site_id": "1e3"}, "not_found"),
])
async def test_bad_input_is_refused_with_a_code_and_a_text_for_people(rt, body, code):
    site, _other, _boss, anna, _oleg, _ = await _world(rt)
    body = {"site_id": site.id, **body} if "site_id" not in body else body
    with pytest.raises(ActionError) as refused:
        await bans.create_ban(rt, anna, body)
    assert refused.value.code == code, refused.value.message
    assert 400 <= refused.value.status < 500
    if code in ("invalid_ban_value", "invalid_expiry"):
        assert any("а" <= ch <= "я" for ch in refused.value.message.lower()) or anna.language == "en"
