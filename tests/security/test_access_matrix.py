"""Every REST endpoint of the OpenAPI document and every client frame type of both sockets,
tried anonymously, with a visitor token, as an operator of the site (not an admin), as an
operator of another site and as an admin, against one expectation table: 0 unexpected
successes, and every expected success really passes the rights check.

An answer *passes* the rights check unless it is 401, 403 or 404 (REST) or an ``error`` frame /
a refused ``action.result`` / a closed socket (WebSocket): a 409 or 422 for an allowed role
still passed it. A denied role must be turned away before its input is even looked at.
Leak checks on top: the other site's operator lists none of this site's conversations, sites or
e-mails, and a visitor hears nothing from a foreign operator's frames."""
from __future__ import annotations

import asyncio
import base64
import uuid

import httpx
import pytest
import websockets

from tests.support import Frames, ServerProcess, admin, visitor_ws

ROLES = ("anon", "visitor", "operator", "foreign", "admin")
STAFF = {"operator", "foreign", "admin"}
MEMBER = {"operator", "admin"}
EVERYONE = set(ROLES)
ADMIN = {"admin"}
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==")

# (method, path template) → roles whose request passes the rights check. Every operation of the
# OpenAPI document must be here (the test fails on a new endpoint without an expectation).
REST: dict[tuple[str, str], set[str]] = {
    ("GET", "/healthz"): EVERYONE,
    ("POST", "/api/v1/auth/login"): set(),  # a wrong password for everyone
    ("GET", "/api/v1/me"): STAFF,
    ("PATCH", "/api/v1/me"): STAFF,
    ("PUT", "/api/v1/me/status"): STAFF,
    ("GET", "/api/v1/conversations"): STAFF,
    ("GET", "/api/v1/conversations/{conversation_id}"): MEMBER,
    ("GET", "/api/v1/conversations/{conversation_id}/messages"): MEMBER,
    ("POST", "/api/v1/conversations/{conversation_id}/messages"): MEMBER,
    ("POST", "/api/v1/conversations/{conversation_id}/take"): MEMBER,
    ("POST", "/api/v1/conversations/{conversation_id}/close"): MEMBER,
    ("POST", "/api/v1/conversations/{conversation_id}/reopen"): MEMBER,
    ("GET", "/api/v1/sites"): STAFF,
    ("POST", "/api/v1/sites"): ADMIN,
    ("GET", "/api/v1/sites/{site_id}"): MEMBER,
    ("PATCH", "/api/v1/sites/{site_id}"): ADMIN,
    ("GET", "/api/v1/sites/{site_id}/hours"): MEMBER,
    ("PUT", "/api/v1/sites/{site_id}/hours"): ADMIN,
    ("GET", "/api/v1/operators"): ADMIN,
    ("POST", "/api/v1/operators"): ADMIN,
    ("PATCH", "/api/v1/operators/{operator_id}"): ADMIN,
    ("POST", "/api/v1/operators/{operator_id}/password"): ADMIN,
    ("PUT", "/api/v1/operators/{operator_id}/sites"): ADMIN,
    ("GET", "/api/v1/operators/{operator_id}/photo"): EVERYONE,  # shown to visitors in the widget
    ("POST", "/api/v1/me/photo"): STAFF,
    ("DELETE", "/api/v1/me/photo"): STAFF,
    ("POST", "/api/v1/me/password"): STAFF,  # wrong current password: 403 wrong_password … see below
    ("GET", "/api/v1/widget/config"): EVERYONE,
    ("GET", "/api/v1/widget/conversations/{conversation_id}/messages"): {"visitor"},
    ("POST", "/api/v1/widget/offline"): EVERYONE,
    ("POST", "/api/v1/widget/contacts"): {"visitor"},
    ("GET", "/api/v1/outbox"): STAFF,
    ("POST", "/api/v1/outbox/{email_id}/retry"): MEMBER,
    # supervision and missed chats (issue 12): the world's transfer goes from the admin to the site's operator
    ("POST", "/api/v1/transfers/{transfer_id}/decline"): {"operator"},  # only its receiver
    ("POST", "/api/v1/transfers/{transfer_id}/cancel"): ADMIN,   # only its sender
    ("POST", "/api/v1/conversations/{conversation_id}/whisper"): ADMIN,  # supervisors: administrators
    ("GET", "/api/v1/sites/{site_id}/escalation"): MEMBER,
    ("PUT", "/api/v1/sites/{site_id}/escalation"): ADMIN,
    ("GET", "/api/v1/reports/{site_id}/missed"): MEMBER,
    ("GET", "/api/v1/phrases/settings"): STAFF,  # the operator's own composer settings
    ("PUT", "/api/v1/phrases/settings"): STAFF,
    # proactive invitations (docs/invitations.md): operators of the site read the rules, admins edit
    # them; a manual invitation by an operator of the visitor's site; the widget's reports need only
    # the site key (a rule of this site), its wait needs the visitor's token (a pending manual
    # invitation answers it at once: the invite above comes first)
    ("GET", "/api/v1/sites/{site_id}/invitations"): MEMBER,
    ("POST", "/api/v1/sites/{site_id}/invitations"): ADMIN,
    ("PATCH", "/api/v1/invitations/{rule_id}"): ADMIN,
    ("POST", "/api/v1/visitors/{visitor_id}/invite"): MEMBER,
    ("POST", "/api/v1/widget/invitations/record"): EVERYONE,
    ("POST", "/api/v1/widget/invitations/wait"): {"visitor"},
    ("DELETE", "/api/v1/invitations/{rule_id}"): ADMIN,  # after the others of the rule
    # issue 13, second part: the quality coach, transcripts, export
    ("GET", "/api/v1/conversations/{conversation_id}/quality"): MEMBER,
    ("POST", "/api/v1/conversations/{conversation_id}/transcript"): MEMBER,
    ("GET", "/api/v1/quality/{site_id}"): MEMBER,
    ("GET", "/api/v1/quality/{site_id}/settings"): MEMBER,
    ("PUT", "/api/v1/quality/{site_id}/settings"): ADMIN,
    ("GET", "/api/v1/export/{site_id}"): MEMBER,
    # bans (issue 17): the operators of the ban's site; a foreign operator lists only its own sites' bans
    ("GET", "/api/v1/bans"): STAFF,
    ("POST", "/api/v1/bans"): MEMBER,
    ("POST", "/api/v1/bans/{ban_id}/lift"): MEMBER,
    ("GET", "/api/v1/widget/form-token"): EVERYONE,  # public: when the widget showed the offline form
    # departments and routing (tests/routing/)
    ("GET", "/api/v1/sites/{site_id}/departments"): ADMIN,
    ("POST", "/api/v1/sites/{site_id}/departments"): ADMIN,
    ("PATCH", "/api/v1/departments/{department_id}"): ADMIN,
    ("PUT", "/api/v1/sites/{site_id}/routing"): ADMIN,
    ("GET", "/api/v1/chat-limits"): ADMIN,
    ("PUT", "/api/v1/operators/{operator_id}/chat-limit"): ADMIN,
    ("GET", "/api/v1/departments"): STAFF,
    ("POST", "/api/v1/conversations/{conversation_id}/transfer-department"): MEMBER,
    ("DELETE", "/api/v1/departments/{department_id}"): ADMIN,  # after the PATCH: the admin's try deletes it
    # phrases (issue 9): the shared phrases of a site are edited by an admin only, seen by its members
    ("GET", "/api/v1/phrases"): STAFF,
    ("POST", "/api/v1/phrases"): ADMIN,  # a shared phrase of the site
    ("GET", "/api/v1/phrases/search"): MEMBER,  # for a conversation of the site
    ("GET", "/api/v1/phrases/export"): MEMBER,  # the site's shared phrases
    ("POST", "/api/v1/phrases/import"): ADMIN,  # into the site's shared phrases
    ("PUT", "/api/v1/phrases/hotkeys/{digit}"): MEMBER,  # bound to the site's shared phrase
    ("PATCH", "/api/v1/phrases/{phrase_id}"): ADMIN,
    ("POST", "/api/v1/phrases/{phrase_id}/use"): MEMBER,
    ("POST", "/api/v1/spellcheck"): STAFF,
    ("GET", "/api/v1/dictionary"): STAFF,
    ("POST", "/api/v1/dictionary"): ADMIN,  # a word of the site's dictionary
    # reports (issue 12): the sites an operator works on, every site for an admin
    ("GET", "/api/v1/reports/sites"): STAFF,
    ("GET", "/api/v1/reports/{site_id}"): MEMBER,
    ("GET", "/api/v1/reports/{site_id}/{table}.csv"): MEMBER,
    # team (issue 13): transfers between the operators of a site
    ("GET", "/api/v1/conversations/{conversation_id}/transfer-targets"): MEMBER,
    ("POST", "/api/v1/conversations/{conversation_id}/transfer"): MEMBER,
    ("POST", "/api/v1/transfers/{transfer_id}/accept"): {"operator"},  # only the colleague it was offered to
    # visitors and their context (issue 10)
    ("GET", "/api/v1/visitors/online"): STAFF,
    ("GET", "/api/v1/visitors/{visitor_id}"): MEMBER,
    ("GET", "/api/v1/me/card-fields"): STAFF,
    ("PUT", "/api/v1/me/card-fields"): STAFF,
    ("POST", "/api/v1/widget/pageviews"): EVERYONE,  # the loader's page views: a new visitor without a token
    # the visitor ends and rates its own conversation (issue 18); the rating needs it closed: after the end
    ("POST", "/api/v1/widget/conversations/{conversation_id}/end"): {"visitor"},
    ("POST", "/api/v1/widget/conversations/{conversation_id}/rating"): {"visitor"},
    ("POST", "/api/v1/widget/conversations/{conversation_id}/transcript"): {"visitor"},
    # deletions last but one: they remove what the rows above use
    ("DELETE", "/api/v1/phrases/{phrase_id}"): ADMIN,
    ("DELETE", "/api/v1/dictionary/{word_id}"): ADMIN,  # a word of the site's dictionary
    ("POST", "/api/v1/auth/logout"): STAFF,  # last: it ends the session
}
DENIED = {401, 403, 404}
LISTS = {"/api/v1/conversations", "/api/v1/sites", "/api/v1/outbox", "/api/v1/bans", "/api/v1/visitors/online",
         "/api/v1/reports/sites"}

# client frame type → roles whose frame is carried out, per socket
OPERATOR_FRAMES: dict[str, set[str]] = {
    "message.send": MEMBER, "typing": MEMBER, "conversation.take": MEMBER, "conversation.close": MEMBER,
    "conversation.reopen": MEMBER, "sync": MEMBER, "read": MEMBER, "status.set": STAFF, "ping": STAFF,
    "pong": STAFF, "hello": STAFF, "conversation.view": MEMBER,
}
# on the visitor socket the seats are: the conversation's own visitor, another visitor (own token,
# someone else's conversation id), and a socket with an operator's cookie and no token: the cookie
# gives no rights there, it is a new visitor like any other
SEATS = {"visitor", "other_visitor", "operator_cookie"}
VISITOR_FRAMES: dict[str, set[str]] = {
    "message.send": SEATS, "typing": SEATS, "page": SEATS, "contacts": SEATS, "ping": SEATS, "pong": SEATS,
    "hello": SEATS,
    "sync": {"visitor"}, "read": {"visitor"},  # only the conversation's own visitor
    # ending and rating too (the rating needs it closed: after the end)
    "conversation.end": {"visitor"}, "conversation.rate": {"visitor"},
    # the operator's vocabulary does not exist on the visitor socket
    "conversation.take": set(), "conversation.close": set(), "conversation.reopen": set(), "status.set": set(),
    # before the first message only: the other visitor (its conversation is open and has a message) is
    # refused (invalid_input); a fresh visitor may choose, and so may the own visitor once its
    # conversation.end above has ended its conversation (the choice is for its next one)
    "department.choose": {"visitor", "operator_cookie"},
}


class World:
    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.http: dict[str, httpx.Client] = {}
        self.csrf: dict[str, str] = {}


def _login(server: ServerProcess, email: str, password: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=server.url, timeout=20)
    r = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return client, r.json()["csrf_token"]


async def _visitor_conversation(server: ServerProcess, key: str, text: str) -> tuple[str, int, int]:
    ws = await visitor_ws(server, key)
    token, visitor_id = ws.welcome["visitor_token"], ws.welcome["visitor_id"]
    await ws.send({"type": "message.send", "client_id": uuid.uuid4().hex[:12], "text": text})
    ack = await ws.expect("message.ack")
    await ws.close()
    return token, ack["message"]["conversation_id"], visitor_id


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One server for both tables: each test works on objects of its own where it changes them
    (the frame table opens its own conversation; logout ends a session opened for it)."""
    server = ServerProcess(tmp_path_factory.mktemp("matrix") / "data",
                           env={"FRONTDESK_OFFLINE_RATE_LIMIT": "1000"}).start()
    try:
        w = World(server)
        boss = admin(server)
        key = server.demo["site_key"]
        sites = boss.call("GET", "/api/v1/sites").json()["sites"]
        w.site_id = next(s["id"] for s in sites if s["site_key"] == key)
        other = boss.call("POST", "/api/v1/sites", json={"name": "Другой сайт"}).json()["site"]
        w.other_site_key = other["site_key"]
        password = "matrix horse battery staple"
        ids = {}
        w.logins = {"admin": (server.demo["admin_email"], server.demo["admin_password"])}
        for role, site in (("operator", w.site_id), ("foreign", other["id"]), ("target", w.site_id)):
            r = boss.call("POST", "/api/v1/operators", json={
                "email": f"{role}-{uuid.uuid4().hex[:6]}@example.com", "name": role, "password": password,
                "site_ids": [site]})
            assert r.status_code == 201, r.text
            ids[role] = r.json()["operator"]["id"]
            if role != "target":
                w.http[role], w.csrf[role] = _login(server, r.json()["operator"]["email"], password)
                w.logins[role] = (r.json()["operator"]["email"], password)
        w.target_id = ids["target"]
        w.http["admin"], w.csrf["admin"] = boss.http, boss.csrf
        # second sessions for the logout row (before the login row's wrong passwords count)
        w.spare = {role: _login(server, *login) for role, login in w.logins.items()}
        w.admin_id = boss.operator["id"]
        assert boss.call("POST", "/api/v1/me/photo", files={"photo": ("p.png", PNG, "image/png")}).status_code == 200
        w.http["anon"] = httpx.Client(base_url=server.url, timeout=20)
        w.http["visitor"] = httpx.Client(base_url=server.url, timeout=20)
        w.key = key
        w.token, w.conversation_id, w.visitor_id = asyncio.run(_visitor_conversation(server, key, "Здравствуйте"))
        w.other_token, w.other_conversation_id, _ = asyncio.run(_visitor_conversation(server, key, "Добрый день"))
        w.rule = {"name": "Матрица", "action": {"text": {"ru": "Помочь?"}}, "conditions": {"pages_min": 2}}
        r = boss.call("POST", f"/api/v1/sites/{w.site_id}/invitations", json=w.rule)
        assert r.status_code == 201, r.text
        w.rule_id = r.json()["rule"]["id"]
        # a shared phrase and a dictionary word of the site, and a transfer offered to the site's operator
        r = boss.call("POST", "/api/v1/phrases", json={"text": "Одну минуту", "scope": "site", "site_id": w.site_id})
        assert r.status_code == 201, r.text
        w.phrase_id = r.json()["phrase"]["id"]
        r = boss.call("POST", "/api/v1/dictionary", json={"word": "фронтдеск", "scope": "site", "site_id": w.site_id})
        assert r.status_code == 201, r.text
        w.word_id = r.json()["word"]["id"]
        # a transfer offer of the other conversation, from the admin to the site's operator: that operator may
        # decline or accept it, the admin cancel it (whichever comes first ends it: a 409 still passed the check)
        boss.call("POST", f"/api/v1/conversations/{w.other_conversation_id}/take")
        r = boss.call("POST", f"/api/v1/conversations/{w.other_conversation_id}/transfer",
                      json={"to_operator_id": ids["operator"], "note": "возьмите, пожалуйста"})
        assert r.status_code == 200, r.text
        w.transfer_id = r.json()["transfer"]["id"]
        w.csrf["visitor"] = w.csrf["anon"] = ""
        dep = boss.call("POST", f"/api/v1/sites/{w.site_id}/departments", json={"name": "Продажи"})
        assert dep.status_code == 201, dep.text
        w.department_id = dep.json()["department"]["id"]
        assert boss.call("PUT", f"/api/v1/sites/{w.site_id}/routing", json={"choose_department": True}).status_code == 200
        # an e-mail of this site in the outbox (the site notifies its address about offline messages)
        boss.call("PATCH", f"/api/v1/sites/{w.site_id}", json={"notify_emails": ["owner@example.com"]})
        r = httpx.post(f"{server.url}/api/v1/widget/offline", params={"site": key},
                       json={"name": "Гость", "email": "guest@example.com", "message": "Перезвоните"})
        assert r.status_code == 201, r.text
        emails = boss.call("GET", "/api/v1/outbox").json()
        items = emails.get("emails") or emails.get("items") or []
        w.email_id = items[0]["id"] if items else 1
        # a ban of this site on a documentation subnet (never the test's own 127.0.0.1)
        r = boss.call("POST", "/api/v1/bans", json={"kind": "subnet", "value": "192.0.2.0/24", "expiry": "1h",
                                                    "site_id": w.site_id})
        assert r.status_code == 201, r.text
        w.ban_id = r.json()["ban"]["id"]
        yield w
    finally:
        server.stop()


def _request(w: World, role: str, method: str, template: str, n: int) -> httpx.Response:
    path = template.format(conversation_id=w.conversation_id, site_id=w.site_id, operator_id=w.target_id,
                           email_id=w.email_id, transfer_id=w.transfer_id, rule_id=w.rule_id,
                           visitor_id=w.visitor_id, ban_id=w.ban_id, department_id=w.department_id,
                           phrase_id=w.phrase_id, word_id=w.word_id, table="summary", digit=1)
    if template == "/api/v1/operators/{operator_id}/photo":
        path = f"/api/v1/operators/{w.admin_id}/photo"
    headers = {"origin": w.server.url}
    if w.csrf.get(role):
        headers["x-csrf-token"] = w.csrf[role]
    if role == "visitor":
        headers["authorization"] = f"Bearer {w.token}"
    params = {"site": w.key} if path.startswith("/api/v1/widget/") else {
        "/api/v1/phrases/search": {"conversation_id": w.conversation_id, "q": "мин"},
        "/api/v1/phrases/export": {"scope": "site", "site_id": w.site_id},
        "/api/v1/reports/{site_id}/missed": {"from": "2026-11-01", "to": "2026-12-01"},
    }.get(template)
    kw: dict = {}
    unique = f"{role}-{n}-{uuid.uuid4().hex[:6]}"
    bodies = {
        "/api/v1/auth/login": {"email": "admin@demo.frontdesk", "password": "not the password"},
        "/api/v1/me": {"language": "ru"}, "/api/v1/me/status": {"status": "offline"},
        "/api/v1/conversations/{conversation_id}/messages": {"client_id": unique, "text": "заметка", "kind": "note"},
        "/api/v1/sites": {"name": f"Сайт {unique}"},
        "/api/v1/sites/{site_id}": {"name": "Демо-магазин"},
        "/api/v1/sites/{site_id}/hours": {"hours": None},
        "/api/v1/operators": {"email": f"{unique}@example.com", "name": "Новый", "password": "another horse battery"},
        "/api/v1/operators/{operator_id}": {"name": "Цель"},
        "/api/v1/operators/{operator_id}/password": {"password": "yet another horse battery"},
        "/api/v1/operators/{operator_id}/sites": {"site_ids": [w.site_id]},
        "/api/v1/me/password": {"current_password": "not the password", "new_password": "brand new horse battery"},
        "/api/v1/widget/offline": {"name": "Гость", "email": "guest@example.com", "message": f"Вопрос {unique}"},
        "/api/v1/widget/contacts": {"email": "guest@example.com"},
        "/api/v1/conversations/{conversation_id}/whisper": {"text": "подсказка"},
        "/api/v1/sites/{site_id}/escalation": {"enabled": False},
        "/api/v1/phrases/settings": {"spell_warn": False},
        "/api/v1/sites/{site_id}/invitations": {**w.rule, "name": f"Правило {unique}"},
        "/api/v1/invitations/{rule_id}": {"priority": 1},
        "/api/v1/visitors/{visitor_id}/invite": {"text": "Могу помочь?"},
        "/api/v1/widget/invitations/record": {"kind": "shown", "rule_id": w.rule_id},
        "/api/v1/widget/invitations/wait": {"token": w.token if role == "visitor" else None},
        "/api/v1/conversations/{conversation_id}/transcript": {"email": "guest@example.com"},
        "/api/v1/quality/{site_id}/settings": {"silence_minutes": 5},
        "/api/v1/bans": {"kind": "subnet", "value": "198.51.100.0/24", "expiry": "1h", "site_id": w.site_id},
        "/api/v1/sites/{site_id}/departments": {"name": f"Отдел {n}"},
        "/api/v1/departments/{department_id}": {"name": "Продажи"},
        "/api/v1/sites/{site_id}/routing": {"mode": "manual"},
        "/api/v1/operators/{operator_id}/chat-limit": {"chat_limit": 3},
        "/api/v1/conversations/{conversation_id}/transfer-department": {"department_id": w.department_id},
        "/api/v1/phrases": {"text": f"Фраза {unique}", "scope": "site", "site_id": w.site_id},
        "/api/v1/phrases/import": {"scope": "site", "site_id": w.site_id,
                                   "csv": f"id,key,title,text,group\r\n,,,Из файла {unique},\r\n"},
        "/api/v1/phrases/hotkeys/{digit}": {"phrase_id": w.phrase_id},
        "/api/v1/phrases/{phrase_id}": {"text": f"Одну минуту, {unique}"},
        "/api/v1/phrases/{phrase_id}/use": {"conversation_id": w.conversation_id},
        "/api/v1/spellcheck": {"text": "Здраствуйте"},
        "/api/v1/dictionary": {"word": f"слово{n}", "scope": "site", "site_id": w.site_id},
        "/api/v1/conversations/{conversation_id}/transfer": {"to_operator_id": w.target_id, "note": "передаю"},
        "/api/v1/me/card-fields": {"order": [], "hidden": []},
        "/api/v1/widget/pageviews": {"views": [{"url": "https://shop.example/", "title": "Магазин"}]},
        "/api/v1/widget/conversations/{conversation_id}/rating": {"value": 5},
        "/api/v1/widget/conversations/{conversation_id}/transcript": {"email": "me@example.com"},
    }
    if template == "/api/v1/auth/logout" and role in w.spare:
        # a second session of the role, opened for it: the world's sessions stay for the frame table
        client, csrf = w.spare[role]
        return client.post(path, headers={**headers, "x-csrf-token": csrf})
    if template == "/api/v1/me/photo" and method == "POST":
        kw["files"] = {"photo": ("p.png", PNG, "image/png")}
    elif method in ("POST", "PUT", "PATCH") and template in bodies:
        kw["json"] = bodies[template]
    return w.http[role].request(method, path, params=params, headers=headers, **kw)


def test_every_endpoint_for_every_role(world, security_counts):
    w = world
    doc = httpx.get(f"{w.server.url}/api/openapi.json").json()
    operations = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    known = set(REST)
    assert operations == known, f"endpoints without an expectation: {operations - known}; " \
                                f"expectations without an endpoint: {known - operations}"
    unexpected, missing, tried, passed = [], [], 0, 0
    order = sorted(REST, key=lambda op: op == ("POST", "/api/v1/auth/logout"))
    for n, (method, template) in enumerate(order):
        for role in ROLES:
            r = _request(w, role, method, template, n)
            tried += 1
            assert r.status_code < 500, (method, template, role, r.status_code, r.text)
            ok = r.status_code not in DENIED
            if template == "/api/v1/me/password" and r.status_code == 403:
                ok = r.json()["error"]["code"] == "wrong_password"  # it got as far as checking the password
            passed += ok
            if ok and role not in REST[(method, template)]:
                unexpected.append((method, template, role, r.status_code, r.text[:200]))
            if not ok and role in REST[(method, template)]:
                missing.append((method, template, role, r.status_code, r.text[:200]))
            if role == "foreign" and ok and method == "GET" and template in LISTS:
                body = r.json()  # what it may see holds nothing of this site
                if template == "/api/v1/conversations":
                    assert body["conversations"] == [], body
                if template == "/api/v1/sites":
                    assert w.site_id not in [s["id"] for s in body["sites"]], body
                if template == "/api/v1/outbox":
                    assert w.email_id not in [e["id"] for e in body.get("emails") or body.get("items") or []]
                if template == "/api/v1/bans":
                    assert body["bans"] == [], body
                if template == "/api/v1/visitors/online":
                    assert body["visitors"] == [], body
                if template == "/api/v1/reports/sites":
                    assert w.site_id not in [s["id"] for s in body["sites"]], body
    security_counts(f"REST access matrix: {len(REST)} endpoints × {len(ROLES)} roles = {tried} requests, "
                    f"{passed} passed the rights check as expected, {tried - passed} refused; "
                    f"{len(unexpected)} unexpected successes, {len(missing)} unexpected refusals")
    assert not unexpected, unexpected
    assert not missing, missing


async def _verdict(ws, frame: dict, probe: int) -> bool:
    """Send the frame, then a ping; True when nothing refused it before the pong came back."""
    pongs = 2 if frame.get("type") == "ping" else 1  # a pong carries nothing: count them
    try:
        await ws.send(frame)
        await ws.send({"type": "ping", "t": probe})
        while True:
            got = await ws.recv(10)
            if got.get("type") == "error":
                return False
            if got.get("type") == "action.result" and not got.get("ok"):
                return False
            if got.get("type") == "pong":
                pongs -= 1
                if pongs == 0:
                    return True
    except (websockets.ConnectionClosed, TimeoutError):
        return False


def _operator_frame(kind: str, cid: int, n: int) -> dict:
    return {
        "message.send": {"type": "message.send", "conversation_id": cid, "client_id": f"m{n}-{uuid.uuid4().hex[:6]}",
                         "text": "ответ", "kind": "note"},
        "typing": {"type": "typing", "conversation_id": cid, "is_typing": True},
        "conversation.take": {"type": "conversation.take", "conversation_id": cid, "ref": f"t{n}", "force": True},
        "conversation.close": {"type": "conversation.close", "conversation_id": cid, "ref": f"c{n}"},
        "conversation.reopen": {"type": "conversation.reopen", "conversation_id": cid, "ref": f"r{n}"},
        "sync": {"type": "sync", "conversation_id": cid, "after_seq": 0},
        "read": {"type": "read", "conversation_id": cid, "seq": 1},
        "status.set": {"type": "status.set", "status": "away"},
        "ping": {"type": "ping", "t": "x"}, "pong": {"type": "pong", "t": "x"},
        "hello": {"type": "hello", "resume": {}},
        "conversation.view": {"type": "conversation.view", "conversation_id": cid},
        "conversation.end": {"type": "conversation.end", "conversation_id": cid},
        "conversation.rate": {"type": "conversation.rate", "conversation_id": cid, "value": 5},
    }[kind]


def _visitor_frame(kind: str, cid: int, n: int, department_id: int = 0) -> dict:
    if kind == "department.choose":
        return {"type": "department.choose", "department_id": department_id, "ref": f"d{n}"}
    if kind in ("message.send", "typing", "page", "contacts", "hello"):
        return {"message.send": {"type": "message.send", "client_id": f"v{n}-{uuid.uuid4().hex[:6]}", "text": "вопрос"},
                "typing": {"type": "typing", "text": "печатаю"},
                "page": {"type": "page", "url": "https://shop.example/cart", "title": "Корзина"},
                "contacts": {"type": "contacts", "email": "guest@example.com"},
                "hello": {"type": "hello", "visitor_token": None, "resume": {}}}[kind]
    return _operator_frame(kind, cid, n)


async def test_every_frame_type_for_every_role(world, security_counts):
    w = world
    from frontdesk.realtime.frames import OPERATOR_CLIENT_FRAMES, VISITOR_CLIENT_FRAMES

    assert set(OPERATOR_FRAMES) == set(OPERATOR_CLIENT_FRAMES)
    assert set(VISITOR_FRAMES) >= set(VISITOR_CLIENT_FRAMES)
    unexpected, missing, tried = [], [], 0
    # a department of its own, offered by the site (the REST table deletes the world's and may change routing)
    boss = {"origin": w.server.url, "x-csrf-token": w.csrf["admin"]}
    r = w.http["admin"].post(f"/api/v1/sites/{w.site_id}/departments", json={"name": "Доставка"}, headers=boss)
    assert r.status_code == 201, r.text
    department_id = r.json()["department"]["id"]
    r = w.http["admin"].put(f"/api/v1/sites/{w.site_id}/routing", json={"choose_department": True}, headers=boss)
    assert r.status_code == 200, r.text
    # a conversation of its own (the REST table ends and rates the world's)
    token, conversation_id, _ = await _visitor_conversation(w.server, w.key, "Ещё вопрос")
    # the conversation's own visitor listens: a foreign operator's frames must reach it never
    listener = await visitor_ws(w.server, w.key, token=token)
    await listener.send({"type": "ping", "t": "start"})
    await listener.expect("pong")
    n = 0
    for role in ROLES:
        await listener.send({"type": "ping"})  # what the previous role caused is heard by now
        while (await listener.recv()).get("type") != "pong":
            pass
        cookie = "; ".join(f"{k}={v}" for k, v in w.http[role].cookies.items())
        headers = {"Origin": w.server.url, **({"Cookie": cookie} if cookie else {})}
        if role == "visitor":
            headers["Authorization"] = f"Bearer {token}"
        for kind in OPERATOR_FRAMES:
            n += 1
            tried += 1
            try:
                conn = await websockets.connect(w.server.ws_url + "/ws/operator", additional_headers=headers)
            except websockets.InvalidStatus:
                ok = False
            else:
                ws = Frames(conn)
                ok = await _verdict(ws, {"type": "hello", "resume": {}}, -1)
                if ok and kind != "hello":
                    ok = await _verdict(ws, _operator_frame(kind, conversation_id, n), n)
                await conn.close()
            if ok and role not in OPERATOR_FRAMES[kind]:
                unexpected.append(("operator socket", kind, role))
            if not ok and role in OPERATOR_FRAMES[kind]:
                missing.append(("operator socket", kind, role))
        if role == "foreign":
            await listener.send({"type": "ping", "t": "foreign-done"})
            while (frame := await listener.recv()).get("type") != "pong":
                assert frame["type"] in ("availability",), f"the visitor heard a foreign operator: {frame}"
    await listener.close()
    # the visitor socket: its own visitor, another visitor, an operator's cookie
    seats = {"visitor": (token, {}), "other_visitor": (w.other_token, {}),
             "operator_cookie": (None, {"Cookie": "; ".join(f"{k}={v}" for k, v in w.http["operator"].cookies.items())})}
    for role, (token, extra) in seats.items():
        for kind in VISITOR_FRAMES:
            n += 1
            tried += 1
            conn = await websockets.connect(f"{w.server.ws_url}/ws/visitor?site={w.key}", additional_headers=extra)
            ws = Frames(conn)
            await ws.send({"type": "hello", "visitor_token": token, "resume": {}})
            await ws.expect("welcome")  # "hello" is the handshake itself: it passed
            ok = kind == "hello" or await _verdict(ws, _visitor_frame(kind, conversation_id, n, department_id), n)
            await conn.close()
            if ok and role not in VISITOR_FRAMES[kind]:
                unexpected.append(("visitor socket", kind, role))
            if not ok and role in VISITOR_FRAMES[kind]:
                missing.append(("visitor socket", kind, role))
    security_counts(f"WebSocket access matrix: {len(OPERATOR_FRAMES)} operator frame types × {len(ROLES)} roles + "
                    f"{len(VISITOR_FRAMES)} visitor-socket frame types × {len(seats)} seats = {tried} tries; "
                    f"{len(unexpected)} unexpected successes, {len(missing)} unexpected refusals")
    assert not unexpected, unexpected
    assert not missing, missing
