"""E-mail header and body injection (issue 16, High): the header corpus (header_corpus.py)
through every field that reaches an e-mail, checked on the bytes a real SMTP server (aiosmtpd)
received. (``compose.render`` on stored rows: test_email_render.py.)

``frontdesk serve`` runs in a subprocess (SQLite): the offline form's name, e-mail and message;
the site name (the From display name and the Subject); the site's
notification addresses; the operator's name and reply text in the reply e-mail; the name and
e-mail a visitor leaves as contacts (``POST /widget/contacts``: the reply's To); and a
visitor's name and e-mail written straight into the database (as if stored before the fix).
A form field must answer 4xx with its JSON error code; a value that reaches an e-mail must
arrive neutralised: exactly the envelope recipient we meant, exactly our header fields once
each, the addresses we meant, our multipart/alternative body.

This file imports nothing from ``frontdesk.mail``, so it runs unchanged against code without the fix.

The counts go to the terminal summary ("security counts"), and to stdout with ``-s``.
"""
from __future__ import annotations

import sqlite3
import time
from collections import Counter

import httpx
import pytest

from tests.mail.conftest import SmtpSink, mail_env
from tests.security.header_corpus import ADDRESSES, TEXT, inspect
from tests.support import ServerProcess, admin, wait_until

SENDER = "support@shop.example"   # FRONTDESK_MAIL_FROM without a name: the site's name is the From name
REPLY_TO = "help@shop.example"    # FRONTDESK_MAIL_REPLY_TO of the operator's reply e-mails


@pytest.fixture
def sink():
    s = SmtpSink().start()
    yield s
    s.stop()


@pytest.fixture
def mail_server(tmp_path, sink):
    proc = ServerProcess(tmp_path / "data", env=mail_env(sink.url, FRONTDESK_MAIL_FROM=SENDER,
                                                         FRONTDESK_MAIL_REPLY_TO=f"Служба поддержки <{REPLY_TO}>",
                                                         FRONTDESK_LOG_LEVEL="error")).start()
    yield proc
    proc.stop()


class Run:
    """The cases of one run: what each should have produced, and what happened."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.op = admin(server)
        self.http = httpx.Client(base_url=server.url, timeout=30)
        self.db = sqlite3.connect(server.data_dir / "frontdesk.db", timeout=30, isolation_level=None)
        self.outcomes: Counter = Counter()
        self.failures: list[tuple[str, str, str]] = []
        self.expect: list[dict] = []  # one per conversation whose e-mail we then inspect
        self.fields: Counter = Counter()

    def fail(self, field: str, case: str, problem: str) -> None:
        self.failures.append((field, case, problem))

    def site(self, name: str, notify: list[str]) -> dict:
        r = self.op.call("POST", "/api/v1/sites", json={"name": name, "notify_emails": notify})
        assert r.status_code == 201, r.text
        return r.json()["site"]

    def offline(self, key: str, **body) -> httpx.Response:
        return self.http.post("/api/v1/widget/offline", params={"site": key}, json=body)

    def refused(self, field: str, case: str, r: httpx.Response, codes: tuple[str, ...]) -> None:
        """A 4xx with a JSON error of one of ``codes``."""
        try:
            code = r.json()["error"]["code"]
            message = r.json()["error"]["message"]
        except Exception:  # noqa: BLE001
            code, message = None, None
        if not (400 <= r.status_code < 500 and code in codes and message):
            self.fail(field, case, f"answered {r.status_code} {r.text[:200]!r}, expected 4xx {codes}")
        self.outcomes["refused (4xx)"] += 1

    def reply(self, cid: int, text: str, client_id: str) -> httpx.Response:
        return self.op.call("POST", f"/api/v1/conversations/{cid}/messages", json={"client_id": client_id, "text": text})


def _submit_cases(run: Run) -> None:
    form = run.site("Shop", ["form@shop.example"])
    named = run.site("Shop", ["site-name@shop.example"])
    quiet = run.site("Quiet", [])  # conversations for reply e-mails: no notification of their own
    admin_id = run.op.operator["id"]

    def notify_case(field: str, case: str, key: str, to: str, *, name: str = "Иван",
                    email: str = "ivan@visitor.example", message: str = "Здравствуйте",
                    codes: tuple[str, ...] = (), must_refuse: bool = False) -> None:
        r = run.offline(key, name=name, email=email, message=f"[{field}/{case}] {message}")
        run.fields[field] += 1
        if r.status_code == 201:
            if must_refuse:
                run.fail(field, case, "accepted by the form")
            run.expect.append({"field": field, "case": case, "cid": r.json()["conversation_id"], "to": to,
                               "reply_to": email.strip().lower(), "maybe_failed": False})
        else:
            run.refused(field, case, r, codes)

    # the offline form: name, e-mail, message
    for case, value, must_refuse in TEXT:
        notify_case("form.name", case, form["site_key"], "form@shop.example", name=value,
                    codes=("invalid_name",), must_refuse=must_refuse)
        notify_case("form.message", case, form["site_key"], "form@shop.example", message=value,
                    codes=("empty_text", "text_too_long", "invalid_input"))
    for case, value, must_refuse in ADDRESSES:
        notify_case("form.email", case, form["site_key"], "form@shop.example", email=value,
                    codes=("invalid_email",), must_refuse=must_refuse)

    # the site's name: the From display name and the Subject of its notifications
    for case, value, _ in TEXT:
        r = run.op.call("PATCH", f"/api/v1/sites/{named['id']}", json={"name": value})
        if r.status_code == 200:
            notify_case("site.name", case, named["site_key"], "site-name@shop.example")
        else:
            run.fields["site.name"] += 1
            run.refused("site.name", case, r, ("invalid_input",))

    # the site's notification addresses: delivered to exactly that address, or not at all
    for case, value, _ in ADDRESSES:
        r = run.op.call("POST", "/api/v1/sites", json={"name": f"N {case}", "notify_emails": [value]})
        run.fields["site.notify"] += 1
        if r.status_code != 201:
            run.refused("site.notify", case, r, ("invalid_input",))
            continue
        site = r.json()["site"]
        r = run.offline(site["site_key"], name="Иван", email="ivan@visitor.example", message=f"[site.notify/{case}]")
        assert r.status_code == 201, r.text
        run.expect.append({"field": "site.notify", "case": case, "cid": r.json()["conversation_id"],
                           "to": site["notify_emails"][0], "reply_to": "ivan@visitor.example", "maybe_failed": True})

    # the operator's reply e-mail: the operator's name, the reply text, and a visitor's name and
    # e-mail stored before the fix (written straight into the database)
    tokens: dict[int, str] = {}

    def conversation(tag: str) -> tuple[int, int, str]:
        email = f"{tag}@visitor.example"
        r = run.offline(quiet["site_key"], name="Иван", email=email, message=f"[{tag}] вопрос")
        assert r.status_code == 201, r.text
        tokens[r.json()["conversation_id"]] = r.json()["visitor_token"]
        return r.json()["conversation_id"], r.json()["visitor_id"], email

    def contacts(cid: int, **body) -> httpx.Response:
        return run.http.post("/api/v1/widget/contacts", params={"site": quiet["site_key"]}, json=body,
                             headers={"Authorization": f"Bearer {tokens[cid]}"})

    for n, (case, value, must_refuse) in enumerate(TEXT):
        run.fields["operator.name"] += 1
        r = run.op.call("PATCH", f"/api/v1/operators/{admin_id}", json={"name": value})
        if r.status_code == 200:
            cid, _, email = conversation(f"opname-{n}")
            r = run.reply(cid, f"Ответ [operator.name/{case}]", f"opname-{n}")
            assert r.status_code == 200, r.text
            run.expect.append({"field": "operator.name", "case": case, "cid": cid, "to": email,
                               "reply_to": REPLY_TO, "maybe_failed": False})
        else:
            run.refused("operator.name", case, r, ("invalid_input",))

        run.fields["operator.reply"] += 1
        cid, _, email = conversation(f"optext-{n}")
        r = run.reply(cid, f"{value} [operator.reply/{case}]", f"optext-{n}")
        if r.status_code == 200:
            run.expect.append({"field": "operator.reply", "case": case, "cid": cid, "to": email,
                               "reply_to": REPLY_TO, "maybe_failed": False})
        else:
            run.refused("operator.reply", case, r, ("empty_text", "text_too_long", "invalid_input"))

        run.fields["contacts.name"] += 1  # the visitor's name in the reply's To
        cid, _, email = conversation(f"cname-{n}")
        r = contacts(cid, email=email, name=value)
        if r.status_code == 200:
            if must_refuse:
                run.fail("contacts.name", case, "accepted")
            assert run.reply(cid, f"Ответ [contacts.name/{case}]", f"cname-{n}").status_code == 200
            run.expect.append({"field": "contacts.name", "case": case, "cid": cid, "to": email,
                               "reply_to": REPLY_TO, "maybe_failed": False})
        else:
            run.refused("contacts.name", case, r, ("invalid_name",))

        run.fields["stored.visitor_name"] += 1
        cid, visitor_id, email = conversation(f"vname-{n}")
        run.db.execute("UPDATE visitors SET name = ? WHERE id = ?", (value, visitor_id))
        r = run.reply(cid, f"Ответ [stored.visitor_name/{case}]", f"vname-{n}")
        assert r.status_code == 200, r.text
        run.expect.append({"field": "stored.visitor_name", "case": case, "cid": cid, "to": email,
                           "reply_to": REPLY_TO, "maybe_failed": False})
    run.op.call("PATCH", f"/api/v1/operators/{admin_id}", json={"name": "Администратор"})

    for n, (case, value, must_refuse) in enumerate(ADDRESSES):
        run.fields["contacts.email"] += 1  # the reply's envelope recipient and To
        cid, _, _ = conversation(f"cemail-{n}")
        r = contacts(cid, email=value)
        if r.status_code == 200:
            if must_refuse:
                run.fail("contacts.email", case, "accepted")
            assert run.reply(cid, f"Ответ [contacts.email/{case}]", f"cemail-{n}").status_code == 200
            run.expect.append({"field": "contacts.email", "case": case, "cid": cid, "to": value.strip().lower(),
                               "reply_to": REPLY_TO, "maybe_failed": False})
        else:
            run.refused("contacts.email", case, r, ("invalid_email",))

        run.fields["stored.visitor_email"] += 1
        cid, visitor_id, _ = conversation(f"vemail-{n}")
        run.db.execute("UPDATE visitors SET email = ? WHERE id = ?", (value, visitor_id))
        r = run.reply(cid, f"Ответ [stored.visitor_email/{case}]", f"vemail-{n}")
        assert r.status_code == 200, r.text
        run.expect.append({"field": "stored.visitor_email", "case": case, "cid": cid, "to": value.strip(),
                           "reply_to": REPLY_TO, "maybe_failed": True, "must_fail": must_refuse})


def _check_deliveries(run: Run, sink: SmtpSink) -> None:
    def settled() -> bool:
        return run.db.execute("SELECT count(*) FROM outbox WHERE status IN ('queued', 'sending')").fetchone()[0] == 0

    wait_until(settled, timeout=120, interval=0.2, what="every e-mail sent or failed")
    rows = {}
    for cid, status, to_addr, last_error in run.db.execute(
            "SELECT conversation_id, status, to_addr, last_error FROM outbox"):
        rows.setdefault(cid, []).append((status, to_addr, last_error))
    received = sink.received
    # each e-mail's raw bytes (quoted-printable soft breaks removed) and decoded text, for the markers
    haystacks = [m.raw.decode("ascii", "replace").replace("=\r\n", "") + _text(m) for m in received]
    taken = set()
    for e in run.expect:
        field, case = e["field"], e["case"]
        mine = [row for row in rows.get(e["cid"], [])]
        if len(mine) != 1:
            run.fail(field, case, f"{len(mine)} outbox rows for the conversation")
            continue
        status, to_addr, last_error = mine[0]
        if status == "failed":
            if not e["maybe_failed"] or "cannot compose" not in (last_error or ""):
                run.fail(field, case, f"not sent: {last_error}")
            run.outcomes["not sent (address refused at compose)"] += 1
            continue
        if e.get("must_fail"):
            run.fail(field, case, "an address that is not plain was sent to")
        marker = f"[{field}/{case}]"  # in the form's message or the operator's reply: in the body
        mails = [i for i, m in enumerate(received) if i not in taken and marker in haystacks[i]]
        if len(mails) != 1:
            run.fail(field, case, f"{len(mails)} e-mails received for it")
            continue
        taken.add(mails[0])
        mail = received[mails[0]]
        problems = inspect(mail.raw, mail.rcpt_tos, to=e["to"], reply_to=e["reply_to"], sender=SENDER)
        for p in problems:
            run.fail(field, case, p)
        run.outcomes["sent clean" if not problems else "INJECTED"] += 1
    for i, m in enumerate(received):
        if i not in taken:
            run.fail("?", "?", f"an e-mail nobody sent on purpose: to {m.rcpt_tos}")


def _text(mail) -> str:
    try:
        return mail.text()
    except Exception:  # noqa: BLE001 - a broken body is reported by inspect()
        return ""


@pytest.mark.timeout(600)
def test_every_field_that_reaches_an_email_refuses_or_neutralises_the_corpus(mail_server, sink, security_counts):
    run = Run(mail_server)
    try:
        t0 = time.monotonic()
        _submit_cases(run)
        t1 = time.monotonic()
        _check_deliveries(run, sink)
        print(f"submit {t1 - t0:.1f}s, deliveries {time.monotonic() - t1:.1f}s")
    finally:
        run.op.close()
        run.http.close()
        run.db.close()
    total = sum(run.fields.values())
    n_text = sum(1 for f, n in run.fields.items() if n == len(TEXT))
    n_addr = sum(1 for f, n in run.fields.items() if n == len(ADDRESSES))
    assert n_text * len(TEXT) + n_addr * len(ADDRESSES) == total, run.fields
    injections = len({(f, c) for f, c, _ in run.failures})
    security_counts(
        f"header corpus: {len(TEXT)} text payloads × {n_text} fields + {len(ADDRESSES)} address payloads × "
        f"{n_addr} fields "
        f"= {total} cases: " + ", ".join(f"{n} {what}" for what, n in sorted(run.outcomes.items()))
        + f"; {len(sink.received)} e-mails received; {injections} injections")
    assert run.failures == [], "\n".join(f"{f} / {c}: {p}" for f, c, p in run.failures[:60])
