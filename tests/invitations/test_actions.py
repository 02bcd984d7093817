"""Invitations at the action level (actions/invitations.py) on both engines, the HandClock moving
time: rules CRUD with counts, what the widget is sent, shown / dismissed records, a manual
invitation (stored, pushed to that visitor only, fresh for 10 minutes), the first answer opening
a proactive conversation with the rule's name, and the reports' proactive vs incoming counts."""
from __future__ import annotations

from datetime import timedelta

import pytest

from frontdesk.actions import invitations, operators, reports, sites, visitors, visits
from frontdesk.actions.errors import ActionError
from frontdesk.actions.identity import OperatorRef, SiteRef

SHOP = "https://shop.example.ru"
RULE = {"name": "Каталог", "conditions": {"pages_min": 3, "page_seconds": 10,
                                          "url": {"match": "wildcard", "value": "/catalog/*"}},
        "action": {"text": {"ru": "Помочь с выбором?", "en": "Need a hand?"}, "sender": "site"},
        "caps": {"once_per_visit": True}}


async def _setup(rt):
    async with rt.sessions() as session, session.begin():
        site_row = await sites.add_site(session, name="Shop", origins=[SHOP])
        other_row = await sites.add_site(session, name="Other", origins=["https://other.example"])
        adm = OperatorRef.of(await operators.add_operator(session, email="a@example.com", name="Анна",
                                                          password="correct horse", admin=True))
        op = OperatorRef.of(await operators.add_operator(session, email="o@example.com", name="Олег",
                                                         password="correct horse", site_ids=[site_row.id]))
        site, other = SiteRef.of(site_row), SiteRef.of(other_row)
    return site, other, adm, op


async def _visitor(rt, site, path="/catalog/sofas"):
    out = await visits.record_page_views(rt, site, None, [{"url": SHOP + path, "title": "t", "referrer": ""}])
    return out["visitor_token"], await visitors.visitor_by_token(rt, site, out["visitor_token"]), out


async def test_rules_crud_counts_and_what_the_widget_gets(rt):
    site, other, adm, _op = await _setup(rt)
    rule = await invitations.create_rule(rt, site.id, RULE)
    # operators of the site read the rules; of another site: not found
    assert (await invitations.list_rules(rt, _op, site.id))["rules"][0]["id"] == rule["id"]
    with pytest.raises(ActionError) as err:
        await invitations.list_rules(rt, _op, other.id)
    assert err.value.code == "not_found"
    assert rule["enabled"] and rule["caps"] == {"once_per_visit": True}
    assert rule["counts"] == {"shown": 0, "accepted": 0, "dismissed": 0}
    sent = await invitations.widget_rules(rt, site)
    assert sent["timezone"] == "UTC"
    assert sent["rules"] == [{"id": rule["id"], "priority": 0, "conditions": RULE["conditions"],
                              "caps": {"once_per_visit": True}, "text": RULE["action"]["text"], "open": False,
                              "sender": {"name": "Shop", "photo_url": None}}]
    assert (await invitations.widget_rules(rt, other))["rules"] == []

    # signed by an operator: its name; an operator of no site of the rule is refused
    signed = await invitations.update_rule(rt, rule["id"], {"action": {**RULE["action"], "sender": "operator",
                                                                       "operator_id": adm.id}, "priority": 5})
    assert signed["priority"] == 5 and signed["action"]["operator_id"] == adm.id
    assert (await invitations.widget_rules(rt, site))["rules"][0]["sender"]["name"] == "Анна"
    with pytest.raises(ActionError) as err:
        await invitations.update_rule(rt, rule["id"], {"action": {**RULE["action"], "sender": "operator",
                                                                  "operator_id": 999}})
    assert err.value.code == "not_found"

    # a disabled rule is not sent
    await invitations.update_rule(rt, rule["id"], {"enabled": False})
    assert (await invitations.widget_rules(rt, site))["rules"] == []
    await invitations.update_rule(rt, rule["id"], {"enabled": True})

    token, visitor, _ = await _visitor(rt, site)
    await invitations.record(rt, site, {"token": token, "kind": "shown", "rule_id": rule["id"]})
    await invitations.record(rt, site, {"token": None, "kind": "shown", "rule_id": rule["id"]})
    await invitations.record(rt, site, {"token": token, "kind": "dismissed", "rule_id": rule["id"]})
    listed = await invitations.list_rules(rt, adm, site.id)
    assert listed["rules"][0]["counts"] == {"shown": 2, "accepted": 0, "dismissed": 1}

    # another site's rule, an unknown kind, a foreign token
    for data, code in (({"kind": "shown", "rule_id": rule["id"]}, None),
                       ({"kind": "clicked", "rule_id": rule["id"]}, "invalid_input"),
                       ({"kind": "shown", "rule_id": "x"}, "not_found"),
                       ({"kind": "shown", "rule_id": rule["id"], "token": "f" * 64}, "unauthorized")):
        if code is None:
            with pytest.raises(ActionError) as err:
                await invitations.record(rt, other, data)
            assert err.value.code == "not_found"
            continue
        with pytest.raises(ActionError) as err:
            await invitations.record(rt, site, data)
        assert err.value.code == code

    assert (await invitations.delete_rule(rt, rule["id"])) == {"deleted": rule["id"]}
    assert (await invitations.list_rules(rt, adm, site.id))["rules"] == []


async def test_bad_rules_are_refused(rt):
    site, _other, _adm, _op = await _setup(rt)
    for bad in ({}, {"name": "x"}, {**RULE, "action": {"text": {"ru": "  "}}}, {**RULE, "action": {"text": "hi"}},
                {**RULE, "extra": 1}, {**RULE, "priority": 5000}, {**RULE, "conditions": {"page_seconds": -5}},
                {**RULE, "action": {"text": {"ru": "x" * 1001}}}, "rule"):
        with pytest.raises(ActionError) as err:
            await invitations.create_rule(rt, site.id, bad)
        assert err.value.status < 500
    with pytest.raises(ActionError) as err:
        await invitations.create_rule(rt, 999, RULE)
    assert err.value.code == "not_found"


async def test_answering_an_invitation_opens_a_proactive_conversation_with_the_rule_name(rt):
    site, other, adm, _op = await _setup(rt)
    rule = await invitations.create_rule(rt, site.id, RULE)
    foreign = await invitations.create_rule(rt, other.id, {**RULE, "name": "Чужое"})
    _token, visitor, _ = await _visitor(rt, site)
    # another site's rule is ignored: the conversation is the visitor's own
    msg = await invitations.send_invited_message(rt, visitor, "c1", "Здравствуйте", None, {"rule_id": foreign["id"]})
    first = await _conversation(rt, msg["conversation_id"])
    assert first.origin == "incoming"
    await _close(rt, msg["conversation_id"])

    msg = await invitations.send_invited_message(rt, visitor, "c2", "Да, подскажите диван", None,
                                                 {"rule_id": rule["id"]})
    conv = await _conversation(rt, msg["conversation_id"])
    assert (conv.origin, conv.invitation_rule_id, conv.invitation_name) == ("proactive", rule["id"], "Каталог")
    # a second message with the invitation changes nothing and records nothing more
    await invitations.send_invited_message(rt, visitor, "c3", "ещё", msg["conversation_id"], {"rule_id": rule["id"]})
    assert (await invitations.list_rules(rt, adm, site.id))["rules"][0]["counts"]["accepted"] == 1

    # the panel's conversation shape carries it
    from frontdesk.actions import queries
    async with rt.sessions() as session:
        shaped = await queries.load_conversation(session, conv)
    assert shaped["origin"] == "proactive" and shaped["invitation"] == {"rule_id": rule["id"], "name": "Каталог"}

    # the reports: proactive vs incoming, by rule
    day = rt.clock().date()
    report = await reports.site_report(rt, adm, site.id, day.isoformat(), (day + timedelta(days=1)).isoformat())
    assert report["current"]["origin"] == {"incoming": 1, "proactive": 1,
                                           "by_rule": [{"name": "Каталог", "conversations": 1}]}


async def test_a_manual_invitation_reaches_only_that_visitor_and_is_fresh_for_ten_minutes(rt):
    site, _other, adm, _op = await _setup(rt)
    published = []
    publish = rt.publish

    async def keep(*events):
        published.extend(events)
        await publish(*events)

    rt.publish = keep
    _token, visitor, _ = await _visitor(rt, site)
    assert await invitations.pending_manual(rt, site, visitor) is None
    out = (await invitations.send_manual(rt, adm, visitor.id, "  Здравствуйте! Могу помочь?  "))["invitation"]
    assert out["text"] == "Здравствуйте! Могу помочь?" and out["sender"]["name"] == "Анна"
    [event] = [e for e in published if e.name == "invitation.sent"]
    from frontdesk.events.audience import operator_frame, visitor_frame
    assert event.visitor_id == visitor.id and visitor_frame(event) == {"type": "invitation", "invitation": out}
    assert operator_frame(event) is None
    assert (await invitations.pending_manual(rt, site, visitor))["manual_id"] == out["manual_id"]

    # shown: no longer pending; the answer opens a proactive conversation without a rule
    await invitations.record(rt, site, {"token": _token, "kind": "shown", "manual_id": out["manual_id"]})
    assert await invitations.pending_manual(rt, site, visitor) is None
    msg = await invitations.send_invited_message(rt, visitor, "m1", "Да", None, {"manual_id": out["manual_id"]})
    conv = await _conversation(rt, msg["conversation_id"])
    assert (conv.origin, conv.invitation_rule_id, conv.invitation_name) == ("proactive", None, "")

    # another one, not shown within 10 minutes: stale
    again = (await invitations.send_manual(rt, adm, visitor.id, "Ещё вопрос?"))["invitation"]
    rt.clock.advance(9 * 60)
    assert (await invitations.pending_manual(rt, site, visitor))["manual_id"] == again["manual_id"]
    rt.clock.advance(61)
    assert await invitations.pending_manual(rt, site, visitor) is None

    # another visitor's manual invitation cannot be recorded with this token
    token2, _v2, _ = await _visitor(rt, site)
    with pytest.raises(ActionError) as err:
        await invitations.record(rt, site, {"token": token2, "kind": "dismissed", "manual_id": again["manual_id"]})
    assert err.value.code == "not_found"
    for bad_text in ("", "   ", "x" * 1001, 5):
        with pytest.raises(ActionError):
            await invitations.send_manual(rt, adm, visitor.id, bad_text)
    with pytest.raises(ActionError) as err:
        await invitations.send_manual(rt, adm, 10**12, "hi")
    assert err.value.code == "not_found"


async def _conversation(rt, cid):
    from frontdesk.models import Conversation
    async with rt.sessions() as session:
        return await session.get(Conversation, cid)


async def _close(rt, cid):
    from frontdesk.models import Conversation
    async with rt.sessions() as session, session.begin():
        (await session.get(Conversation, cid)).status = "closed"
