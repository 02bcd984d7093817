"""Departments, automatic routing, per-operator limits, queue positions and transfer to a department,
in process on SQLite and PostgreSQL with a hand-moved clock (docs/protocol.md § Routing)."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from frontdesk import events as ev
from frontdesk.actions import background, conversations, departments, operators, routing, sites, team, visitors
from frontdesk.actions.errors import ActionError
from frontdesk.actions.identity import OperatorRef, SiteRef
from frontdesk.events.audience import operator_frame, operator_receives, visitor_frame
from tests.support import wait_for


async def _team(rt, n: int = 3, *, online: bool = True):
    async with rt.sessions() as session, session.begin():
        site = SiteRef.of(await sites.add_site(session, name="Shop"))
        admin = OperatorRef.of(await operators.add_operator(session, email="admin@example.com", name="Админ",
                                                            password="correct horse", admin=True))
        ops = [OperatorRef.of(await operators.add_operator(session, email=f"op{i}@example.com", name=f"Оператор {i}",
                                                           password="correct horse")) for i in range(n)]
    if online:
        for op in ops:
            await operators.set_status(rt, op.id, "online")
    published: list[ev.Event] = []
    publish = rt.publish

    async def recording(*events) -> None:
        published.extend(events)
        await publish(*events)

    rt.publish = recording
    return site, admin, ops, published


async def _visitor_chat(rt, site, text="Здравствуйте", department_id=None):
    visitor, _ = await visitors.identify_visitor(rt, site, None)
    if department_id is not None:
        await departments.choose_department(rt, visitor, department_id)
    msg = await conversations.send_visitor_message(rt, visitor, "c-1", text)
    rt.clock.advance(1)  # arrival order is created_at order
    return visitor, msg["conversation_id"]


async def _assignee(rt, admin, cid):
    conv = await conversations.get_for_operator(rt, admin, cid)
    return conv["assignee"]["id"] if conv["assignee"] else None


async def test_manual_is_the_default_and_routing_leaves_it_alone(rt):
    site, admin, ops, _ = await _team(rt)
    _, cid = await _visitor_chat(rt, site)
    assert (await departments.list_departments(rt, admin, site.id))["routing"] == {
        "mode": "manual", "choose_department": False}
    assert await routing.route_site(rt, site.id) == []
    assert await _assignee(rt, admin, cid) is None


async def test_automatic_routing_is_fair_and_keeps_each_operators_limit(rt):
    site, admin, ops, published = await _team(rt, 3)
    await departments.set_routing(rt, admin, site.id, mode="auto")
    await departments.set_chat_limit(rt, admin, ops[0].id, 1)
    await departments.set_chat_limit(rt, admin, ops[1].id, 2)
    await departments.set_chat_limit(rt, admin, ops[2].id, 3)
    chats = [await _visitor_chat(rt, site, f"вопрос {i}") for i in range(8)]
    assigned = await routing.route_site(rt, site.id)
    assert assigned == [cid for _, cid in chats[:6]]  # oldest first; 1 + 2 + 3 places
    holders = [await _assignee(rt, admin, cid) for _, cid in chats]
    # fewest active first, ties to whoever got one longest ago (then the lower id): round robin
    assert holders[:3] == [ops[0].id, ops[1].id, ops[2].id]
    assert holders[3:6] == [ops[1].id, ops[2].id, ops[2].id]
    assert holders[6:] == [None, None]
    limits = {o["id"]: o for o in (await departments.chat_limits(rt, admin))["operators"]}
    assert [limits[o.id]["active_chats"] for o in ops] == [1, 2, 3]
    # the visitor sees its operator's name at once
    events = [e for e in published if e.name == ev.CONVERSATION_ASSIGNED]
    assert visitor_frame(events[0])["operator"]["name"] == "Оператор 0"
    # the queue: positions 1 and 2; a closed chat frees a place and the queue moves
    places = await routing.queue_positions(rt, site.id)
    assert [places[cid][1] for _, cid in chats[6:]] == [1, 2]
    await conversations.close_conversation(rt, ops[0], chats[0][1])
    assert await routing.route_site(rt, site.id) == [chats[6][1]]
    assert await _assignee(rt, admin, chats[6][1]) == ops[0].id
    places = await routing.queue_positions(rt, site.id)
    assert {cid: p for cid, (_, p) in places.items()} == {chats[7][1]: 1}
    # an operator who goes offline gets nothing more; a higher limit takes the last one
    await operators.set_status(rt, ops[0].id, "offline")
    await conversations.close_conversation(rt, ops[0], chats[6][1])
    assert await routing.route_site(rt, site.id) == []
    await departments.set_chat_limit(rt, admin, ops[1].id, 3)
    assert await routing.route_site(rt, site.id) == [chats[7][1]]
    assert await _assignee(rt, admin, chats[7][1]) == ops[1].id


async def test_fairness_over_many_chats_and_two_nodes_routing_at_once(rt):
    site, admin, ops, _ = await _team(rt, 3)
    await departments.set_routing(rt, admin, site.id, mode="auto")
    chats = [await _visitor_chat(rt, site, f"q{i}") for i in range(12)]
    # three "nodes" route the same site at the same moment: every chat once, nobody over the limit (5)
    results = await asyncio.gather(*(routing.route_site(rt, site.id) for _ in range(3)))
    flat = [cid for r in results for cid in r]
    assert sorted(flat) == sorted(cid for _, cid in chats)
    holders = [await _assignee(rt, admin, cid) for _, cid in chats]
    assert sorted(holders.count(o.id) for o in ops) == [4, 4, 4]


async def test_queue_positions_reach_only_the_waiting_visitor_and_move_as_chats_close(rt):
    site, admin, ops, published = await _team(rt, 1)
    await departments.set_routing(rt, admin, site.id, mode="auto")
    await departments.set_chat_limit(rt, admin, ops[0].id, 1)
    chats = [await _visitor_chat(rt, site, f"q{i}") for i in range(4)]
    router = routing.Router(rt)
    await router.run_once()
    sent = {e.conversation_id: e.payload["position"] for e in published if e.name == ev.QUEUE_POSITION}
    assert sent == {chats[1][1]: 1, chats[2][1]: 2, chats[3][1]: 3}
    pos_event = next(e for e in published if e.name == ev.QUEUE_POSITION)
    assert operator_frame(pos_event) is None  # never to operators
    assert visitor_frame(pos_event) == {"type": "queue.position", "conversation_id": pos_event.conversation_id,
                                        "position": pos_event.payload["position"]}
    assert pos_event.visitor_id == chats[1][0].id
    # the same positions are not sent twice
    published.clear()
    await router.run_once()
    assert [e for e in published if e.name == ev.QUEUE_POSITION] == []
    # a waiting visitor who leaves moves the ones behind; a closed chat takes the head of the queue
    await conversations.end_by_visitor(rt, chats[2][0], chats[2][1])
    await router.run_once()
    assert {e.conversation_id: e.payload["position"] for e in published if e.name == ev.QUEUE_POSITION} == {
        chats[3][1]: 2}
    published.clear()
    await conversations.close_conversation(rt, ops[0], chats[0][1])
    await router.run_once()
    assert await _assignee(rt, admin, chats[1][1]) == ops[0].id
    assert {e.conversation_id: e.payload["position"] for e in published if e.name == ev.QUEUE_POSITION} == {
        chats[3][1]: 1}
    assert await routing.visitor_queue_position(rt, chats[3][0], chats[3][1]) == 1
    assert await routing.visitor_queue_position(rt, chats[1][0], chats[1][1]) is None


async def test_departments_route_to_their_members_and_queue_separately(rt):
    site, admin, ops, _ = await _team(rt, 3)
    sales = await departments.create_department(rt, admin, site.id, "Продажи", [ops[0].id])
    support = await departments.create_department(rt, admin, site.id, "Поддержка", [ops[1].id, ops[2].id])
    await departments.set_routing(rt, admin, site.id, mode="auto", choose_department=True)
    await departments.set_chat_limit(rt, admin, ops[0].id, 1)
    assert await departments.widget_departments(rt, site) == [{"id": sales["id"], "name": "Продажи"},
                                                               {"id": support["id"], "name": "Поддержка"}]
    s1 = await _visitor_chat(rt, site, "купить", sales["id"])
    s2 = await _visitor_chat(rt, site, "купить ещё", sales["id"])
    h1 = await _visitor_chat(rt, site, "сломалось", support["id"])
    await routing.route_site(rt, site.id)
    assert await _assignee(rt, admin, s1[1]) == ops[0].id
    assert await _assignee(rt, admin, s2[1]) is None  # Продажи is full; Поддержка does not take it
    assert await _assignee(rt, admin, h1[1]) in (ops[1].id, ops[2].id)
    places = await routing.queue_positions(rt, site.id)
    assert places[s2[1]][1] == 1
    conv = await conversations.get_for_operator(rt, admin, s1[1])
    assert conv["department_id"] == sales["id"]
    # the choice is made before the first message only; another site's department is not found
    with pytest.raises(ActionError) as exc:
        await departments.choose_department(rt, s1[0], support["id"])
    assert exc.value.code == "invalid_input"
    async with rt.sessions() as session, session.begin():
        other = SiteRef.of(await sites.add_site(session, name="Other"))
    stranger, _ = await visitors.identify_visitor(rt, other, None)
    with pytest.raises(ActionError) as exc:
        await departments.choose_department(rt, stranger, sales["id"])
    assert exc.value.code == "not_found"


async def test_department_members_must_work_on_the_site_and_admin_only(rt):
    site, admin, ops, _ = await _team(rt, 1)
    async with rt.sessions() as session, session.begin():
        other = SiteRef.of(await sites.add_site(session, name="Other"))
        outsider = OperatorRef.of(await operators.add_operator(session, email="x@example.com", name="Чужой",
                                                               password="correct horse", site_ids=[other.id]))
    with pytest.raises(ActionError) as exc:
        await departments.create_department(rt, admin, site.id, "Продажи", [outsider.id])
    assert exc.value.code == "invalid_input"
    with pytest.raises(ActionError) as exc:
        await departments.create_department(rt, ops[0], site.id, "Продажи", [])
    assert exc.value.code == "forbidden"
    for bad in ("", " ", "a\nb", "x" * 101):
        with pytest.raises(ActionError):
            await departments.create_department(rt, admin, site.id, bad, [])
    dep = await departments.create_department(rt, admin, site.id, "  Продажи  ", [ops[0].id, admin.id])
    assert dep["name"] == "Продажи" and dep["members"] == sorted([ops[0].id, admin.id])
    changed = await departments.update_department(rt, admin, dep["id"], name="Опт", members=[])
    assert changed == {"id": dep["id"], "site_id": site.id, "name": "Опт", "members": []}
    await departments.delete_department(rt, admin, dep["id"])
    assert (await departments.list_departments(rt, admin, site.id))["departments"] == []
    for bad in (0, 101, True, "5"):
        with pytest.raises(ActionError):
            await departments.set_chat_limit(rt, admin, ops[0].id, bad)


async def test_transfer_to_a_department_goes_to_its_online_members_and_the_first_accept_wins(rt):
    site, admin, ops, published = await _team(rt, 3)
    dep = await departments.create_department(rt, admin, site.id, "Поддержка", [ops[1].id, ops[2].id])
    _, cid = await _visitor_chat(rt, site)
    await conversations.take_conversation(rt, ops[0], cid)
    targets = await departments.department_targets(rt, ops[0], cid)
    assert targets == [{"id": dep["id"], "name": "Поддержка", "online": 2}]
    result = await routing.transfer_to_department(rt, ops[0], cid, dep["id"], "VIP, просит скидку")
    assert not result["queued"] and sorted(o["to"]["id"] for o in result["offers"]) == [ops[1].id, ops[2].id]
    offered = [e for e in published if e.name == ev.TRANSFER_OFFERED]
    assert sorted(e.payload["to_operator_id"] for e in offered) == [ops[1].id, ops[2].id]
    assert all(visitor_frame(e) is None for e in offered)
    assert operator_frame(offered[0])["transfer"]["department"] == {"id": dep["id"], "name": "Поддержка"}
    first = next(o for o in result["offers"] if o["to"]["id"] == ops[2].id)
    await team.accept_transfer(rt, ops[2], first["id"])
    assert await _assignee(rt, admin, cid) == ops[2].id
    ended = {e.payload["transfer_id"]: e.payload["result"] for e in published if e.name == ev.TRANSFER_ENDED}
    other = next(o for o in result["offers"] if o["to"]["id"] == ops[1].id)
    assert ended == {first["id"]: "accepted", other["id"]: "taken"}
    with pytest.raises(ActionError) as exc:
        await team.accept_transfer(rt, ops[1], other["id"])
    assert exc.value.code == "transfer_ended"
    assert (await conversations.get_for_operator(rt, admin, cid))["department_id"] == dep["id"]


async def test_an_unaccepted_department_transfer_falls_back_to_the_department_queue(rt):
    site, admin, ops, published = await _team(rt, 3)
    dep = await departments.create_department(rt, admin, site.id, "Поддержка", [ops[1].id])
    await departments.set_routing(rt, admin, site.id, mode="auto")
    await departments.set_chat_limit(rt, admin, ops[1].id, 1)
    _, busy = await _visitor_chat(rt, site, "занять")
    await conversations.take_conversation(rt, ops[1], busy)  # Оператор 1 is at the limit
    _, cid = await _visitor_chat(rt, site)
    await conversations.take_conversation(rt, ops[0], cid)
    await routing.transfer_to_department(rt, ops[0], cid, dep["id"], "")
    assert await team.expire_transfers(rt, rt.clock()) == 0  # not yet
    later = rt.clock.advance(rt.settings.transfer_timeout + 1)
    assert await team.expire_transfers(rt, later) == 1
    assert await _assignee(rt, admin, cid) is None  # in the department's queue, not with ops[2]
    assert await routing.route_site(rt, site.id) == []
    assert (await routing.queue_positions(rt, site.id))[cid][1] == 1
    await conversations.close_conversation(rt, ops[1], busy)
    assert await routing.route_site(rt, site.id) == [cid]
    assert await _assignee(rt, admin, cid) == ops[1].id


async def test_a_department_with_nobody_online_takes_the_transfer_into_its_queue_at_once(rt):
    site, admin, ops, published = await _team(rt, 2)
    dep = await departments.create_department(rt, admin, site.id, "Ночь", [ops[1].id])
    await operators.set_status(rt, ops[1].id, "offline")
    _, cid = await _visitor_chat(rt, site)
    await conversations.take_conversation(rt, ops[0], cid)
    assert (await departments.department_targets(rt, ops[0], cid))[0]["online"] == 0
    result = await routing.transfer_to_department(rt, ops[0], cid, dep["id"], "")
    assert result["queued"] and result["offers"] == []
    assert await _assignee(rt, admin, cid) is None
    assert ev.CONVERSATION_OFFERED in [e.name for e in published]
    with pytest.raises(ActionError) as exc:
        await routing.transfer_to_department(rt, ops[0], cid, 10**6, "")
    assert exc.value.code == "not_found"


async def test_router_wakes_on_a_new_conversation(rt):
    site, admin, ops, _ = await _team(rt, 1)
    await departments.set_routing(rt, admin, site.id, mode="auto")
    router = routing.Router(rt)
    rt.routing_hint = router.hint
    task = asyncio.create_task(router.loop())
    try:
        _, cid = await _visitor_chat(rt, site)
        await wait_for(lambda: _assignee(rt, admin, cid), 4, what="the router's assignment")
        assert await _assignee(rt, admin, cid) == ops[0].id
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def _offered_to(event, ops, statuses) -> set[int]:
    """Which of ``ops`` (ids → status) would get this ``conversation.offered`` on their sockets."""
    return {o.id for o in ops if operator_receives(event, operator_id=o.id, site_ids=frozenset({event.site_id}),
                                                    status=statuses.get(o.id, "online"))}


async def test_a_department_chat_is_offered_to_its_online_members_else_to_everyone_online(rt):
    site, admin, ops, published = await _team(rt, 3)
    sales = await departments.create_department(rt, admin, site.id, "Продажи", [ops[0].id, ops[1].id])
    await departments.set_routing(rt, admin, site.id, choose_department=True)  # manual routing
    _, cid = await _visitor_chat(rt, site, "Сколько стоит доставка?", department_id=sales["id"])
    offers = await wait_for(lambda: [e for e in published if e.name == ev.CONVERSATION_OFFERED
                                     and e.conversation_id == cid])
    assert _offered_to(offers[0], ops, {}) == {ops[0].id, ops[1].id}  # not ops[2], who is not in sales
    assert "offer_to" not in operator_frame(offers[0])  # who else was offered is not sent
    # nobody of the department online any more: the repeat reaches every online operator
    await operators.set_status(rt, ops[0].id, "offline")
    await operators.set_status(rt, ops[1].id, "away")
    later = rt.clock() + timedelta(seconds=rt.settings.offer_repeat + 1)
    assert await background.repeat_offers(rt, later) == 1
    repeat = [e for e in published if e.name == ev.CONVERSATION_OFFERED and e.conversation_id == cid][-1]
    statuses = {ops[0].id: "offline", ops[1].id: "away"}
    assert repeat.payload["repeat"] == 1 and _offered_to(repeat, ops, statuses) == {ops[2].id}
    # a chat without a department: every online operator
    _, other = await _visitor_chat(rt, site, "Просто вопрос")
    plain = await wait_for(lambda: [e for e in published if e.name == ev.CONVERSATION_OFFERED
                                    and e.conversation_id == other])
    assert plain[0].payload["offer_to"] is None and _offered_to(plain[0], ops, statuses) == {ops[2].id}


async def test_automatic_routing_offers_a_new_chat_to_nobody_but_gives_it_to_one_operator(rt):
    site, admin, ops, published = await _team(rt, 3)
    await departments.set_routing(rt, admin, site.id, mode="auto")
    _, cid = await _visitor_chat(rt, site, "Здравствуйте")
    await wait_for(lambda: [e for e in published if e.name == ev.CONVERSATION_CREATED and e.conversation_id == cid])
    assert await routing.route_site(rt, site.id) == [cid]
    assigned = [e for e in published if e.name == ev.CONVERSATION_ASSIGNED and e.conversation_id == cid]
    assert len(assigned) == 1
    assert [e for e in published if e.name == ev.CONVERSATION_OFFERED and e.conversation_id == cid] == []


async def test_the_chats_of_an_operator_who_goes_offline_go_to_someone_online(rt):
    site, admin, ops, published = await _team(rt, 2)
    await departments.set_routing(rt, admin, site.id, mode="auto")
    await operators.set_status(rt, ops[1].id, "away")  # only ops[0] can take chats
    visitor, cid = await _visitor_chat(rt, site, "Здравствуйте")
    assert await routing.route_site(rt, site.id) == [cid]
    assert await _assignee(rt, admin, cid) == ops[0].id
    # ops[0] signs off while nobody else can take the chat: it stays with ops[0]
    await operators.set_status(rt, ops[0].id, "offline")
    assert await routing.route_site(rt, site.id) == []
    assert await _assignee(rt, admin, cid) == ops[0].id
    # ops[1] comes back: the chat is routed to ops[1]; the visitor sees the new name
    await operators.set_status(rt, ops[1].id, "online")
    assert await routing.route_site(rt, site.id) == [cid]
    assert await _assignee(rt, admin, cid) == ops[1].id
    moved = [e for e in published if e.name == ev.CONVERSATION_ASSIGNED and e.conversation_id == cid][-1]
    assert moved.payload["from_operator_id"] == ops[0].id
    assert visitor_frame(moved)["operator"]["name"] == "Оператор 1"
    assert await routing.route_site(rt, site.id) == []  # nothing moves twice
    # a manual site leaves an offline operator's chats alone
    await departments.set_routing(rt, admin, site.id, mode="manual")
    await operators.set_status(rt, ops[1].id, "offline")
    await operators.set_status(rt, ops[0].id, "online")
    assert await routing.route_site(rt, site.id) == []
    assert await _assignee(rt, admin, cid) == ops[1].id
