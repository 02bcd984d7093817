"""Outgoing e-mail (docs/email.md).

* ``smtp``    — ``FRONTDESK_SMTP_URL`` → connection parameters;
* ``compose`` — the texts (ru/en, plain text + HTML) and the RFC 5322 message;
* ``outbox``  — queueing a row inside the caller's transaction;
* ``sender``  — the task that claims due rows, sends them, retries with backoff.
"""
