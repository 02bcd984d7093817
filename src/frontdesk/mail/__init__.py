"""Outgoing e-mail (docs/email.md).

* ``smtp``    — ``FRONTDESK_SMTP_URL`` → connection parameters;
* ``headers`` — what may go into a header: checked on input, neutralised when composing
  (docs/security.md § E-mail header injection);
* ``compose`` — the texts (ru/en, plain text + HTML) and the RFC 5322 message, written
  from checked parts and verified byte by byte before it is sent;
* ``outbox``  — queueing a row inside the caller's transaction;
* ``sender``  — the task that claims due rows, sends them, retries with backoff.
"""
