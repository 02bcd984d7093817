"""Every setting, once: name, default and help text.

Read from the environment (prefix ``FRONTDESK_``); CLI flags win. The table in
``docs/settings.md`` is generated from this module's fields and a test keeps
them in sync.
"""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FRONTDESK_", extra="ignore")

    data_dir: Path = Field(
        Path("./frontdesk-data"),
        description="Directory for the SQLite database, the generated secret key and uploaded photos. A relative "
                    "path is taken from the current directory; `serve` prints the absolute one (and says when it "
                    "made a new installation there).")
    database_url: str = Field(
        "",
        description="SQLAlchemy URL. Empty = SQLite file `frontdesk.db` in the data dir. "
                    "PostgreSQL: `postgresql+asyncpg://user:pass@host/db`.")
    broker_url: str = Field(
        "memory://",
        description="Event broker: `memory://` (one process) or `redis://host:6379/0` (several nodes).")
    public_url: str = Field(
        "",
        description="External base URL, e.g. `https://chat.example.com`. Used in the embed snippet, "
                    "e-mail links and the operator Origin check. Empty = derived from each request.")
    secret_key: str = Field(
        "",
        description="Secret for signing. Empty = read from `secret_key` in the data dir, generated there when absent.")
    smtp_url: str = Field(
        "",
        description="`smtp://user:pass@host:port` (or `smtps://`). Empty = e-mail off (stated in the panel).")
    # --- offline mode and e-mail (docs/email.md) ---
    mail_from: str = Field(
        "",
        description="From address of outgoing e-mail, `noreply@example.com` or `Name <noreply@example.com>`. "
                    "Empty = `noreply@` + the host of `PUBLIC_URL` (else `localhost`); the display name is the site name.")
    mail_reply_to: str = Field(
        "",
        description="Reply-To of e-mails that carry an operator's reply to a visitor (e.g. your support mailbox). "
                    "Empty = no Reply-To (answers go to the From address).")
    smtp_timeout: float = Field(
        30.0, description="Seconds an SMTP connect or command may take before the attempt counts as failed.")
    mail_max_attempts: int = Field(
        20, description="Attempts to send one e-mail before it is marked failed (visible in the panel).")
    mail_retry_base: float = Field(
        5.0, description="Delay before the 2nd attempt, seconds; doubles each attempt (±20% jitter).")
    mail_retry_max: float = Field(
        900.0, description="Longest delay between two attempts, seconds (default 15 min).")
    mail_poll_interval: float = Field(
        2.0, description="Seconds between two looks of the sender at the outbox for due e-mails.")
    no_reply_seconds: float = Field(
        60.0, description="A visitor's message with no operator reply for this long gets one polite holding "
                          "message asking for contacts.")
    spellcheck: bool = Field(
        True, description="Check the spelling of the operators' replies (Russian and English). The dictionaries load in a "
                          "background thread at start (≈ 4 s of CPU, ≈ 130 MB of memory); until then the check answers "
                          "\"not ready\" and the panel shows no underlines.")
    offline_tick: float = Field(
        5.0, description="Seconds between checks for unanswered conversations and working-hours changes.")
    offline_rate_limit: int = Field(
        10, description="Offline-form messages accepted per hour from one address for one site (then 429).")
    test_clock_file: str = Field(
        "",
        description="Tests only: a file holding a number of seconds added to the real clock, re-read when it "
                    "changes, so tests move time (working hours, reply timers) without waiting. Never set in production.")
    host: str = Field("127.0.0.1", description="Address `serve` listens on.")
    port: int = Field(8000, description="Port `serve` listens on.")
    max_message_chars: int = Field(
        4000, description="Longest message text a visitor or operator may send (characters, after trimming).")
    ws_max_frame: int = Field(
        65536, description="Largest WebSocket frame accepted, bytes; bigger frames close the socket with 1009.")
    ws_queue_size: int = Field(
        1000, description="Outbound frames buffered per socket; overflow closes the socket with 4408 and the client resumes.")
    ws_ping_interval: float = Field(
        20.0, description="Seconds between server heartbeat pings (keep ≤ 25: proxies cut idle sockets at 60 s).")
    ws_idle_timeout: float = Field(
        75.0, description="A socket that sent nothing for this many seconds is closed.")
    write_batch_max: int = Field(
        256, description="Most messages stored in one group-commit transaction.")
    offline_grace: float = Field(
        30.0, description="Seconds after an operator's last panel tab closes before the operator is set offline.")
    presence_ttl: float = Field(
        30.0, description="Seconds a node's record of its open panel tabs lasts unless its heartbeat "
                          "(every third of this) renews it; a stopped node's tabs then count for nothing.")
    transfer_timeout: float = Field(
        60.0, description="Seconds a transfer offer waits for the receiving operator before the "
                          "conversation goes back to the waiting queue.")
    offer_repeat: float = Field(
        60.0, description="Seconds after which a waiting conversation nobody took is offered (alerted) again.")
    login_max_failures: int = Field(
        5, description="Failed logins per minute per address+e-mail before login answers 429 (4× that per e-mail "
                       "from any address); also wrong current passwords per minute per account on `/me/password` "
                       "(4× that per address).")
    session_days: int = Field(30, description="Days an operator session lasts without activity (each request "
                                              "moves its end forward).")
    visitor_sockets_per_address: int = Field(
        50, description="Open visitor sockets (and held invitation waits, `POST /widget/invitations/wait`, "
                        "refused with 429) per client address, on all nodes together when the broker is Redis "
                        "(then closed with 4429 `rate_limited`); 0 = no cap. Offices behind one NAT address share it.")
    new_visitors_per_address: int = Field(
        300, description="New visitors (a socket without a token) per client address per hour, on all nodes "
                         "together when the broker is Redis (then 4429 `rate_limited`); 0 = no cap.")
    widget_config_per_minute: int = Field(
        120, description="`GET /widget/config` requests per client address per minute (then 429).")
    trusted_proxies: str = Field(
        "", description="Comma-separated addresses of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto "
                        "are believed (the client address of rate limits and visitor context). Empty: none — "
                        "the socket's peer address is the client. `*` trusts every peer (only behind a proxy "
                        "that overwrites the header).")
    photo_max_bytes: int = Field(512 * 1024, description="Largest operator photo upload, bytes.")
    demo: bool = Field(False, description="Create the demo site, admin and operator, and serve `/demo/`.")
    demo_online: bool = Field(
        True, description="With `--demo`: the demo admin and operator start online when the demo is first created, "
                          "so the demo shop shows the live chat at once (the test suite turns this off).")
    geoip_mmdb: str = Field(
        "", description="Path to a MaxMind-format `.mmdb` (GeoLite2-City, GeoIP2-City, DB-IP City Lite) asked before "
                        "the bundled country data, for region and city. A missing or unreadable file is logged and "
                        "lookups fall back (docs/visitor-context.md).")
    pageviews_per_minute: int = Field(
        30, description="`POST /widget/pageviews` reports per visitor (token) per minute on one node (then 429 "
                        "`rate_limited`; the loader keeps the views queued and sends them later); 0 = no cap.")
    pageviews_per_address: int = Field(
        600, description="`POST /widget/pageviews` reports per client address per minute on one node (then 429 "
                         "`rate_limited`); 0 = no cap. Offices behind one NAT address share it.")
    store_ip: Literal["full", "truncated", "none"] = Field(
        "full", description="How much of a visitor's IP address is stored: `full`, `truncated` (IPv4 /24, IPv6 /48) "
                            "or `none`. The location is looked up from the full address first.")
    ban_refresh: float = Field(
        30.0, description="Seconds between reloads of the active bans from the database on each node (bans and "
                          "lifts reach every node at once through the broker; the reload drops expired bans and "
                          "repairs one missed during a broker outage).")
    new_conversations_per_visitor: int = Field(
        20, description="New conversations one visitor may start per hour on its site (then `rate_limited`); "
                        "0 = no cap.")
    new_conversations_per_address: int = Field(
        100, description="New conversations visitors from one address may start per hour on a site (then "
                        "`rate_limited`); 0 = no cap. Offices behind one NAT address share it.")
    offline_min_fill_seconds: float = Field(
        3.0, description="The offline form sent sooner than this many seconds after the widget showed it is "
                         "taken for a bot (accepted, not stored); 0 = off. See docs/moderation.md § Spam.")
    log_level: str = Field("info", description="Log level: debug, info, warning, error.")
    escalation_tick: float = Field(
        5.0, gt=0, description="Seconds between checks for unanswered conversations due for their site's next "
                               "escalation step (the steps and delays themselves are per-site settings).")
    quality_interval: float = Field(
        10.0, description="Seconds between two runs of the quality coach, which scores newly closed conversations "
                          "in the background (docs/quality.md); 0 = the coach does not run.")
    visitor_transcripts_per_hour: int = Field(
        30, ge=0, description="Transcripts visitors may e-mail themselves from the widget, per site and hour (each "
                              "conversation also at most 3 times, once per 5 minutes; docs/reports.md); 0 = none.")

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'frontdesk.db').resolve()}"

    def resolved_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key + "\n")
        path.chmod(0o600)
        return key

    @property
    def photo_dir(self) -> Path:
        return self.data_dir / "photos"


def settings_markdown() -> str:
    """The table of docs/settings.md (``python -m frontdesk.settings`` prints it)."""
    rows = ["| variable | default | what it does |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "(empty)" if default in ("", None) else f"`{default}`"
        rows.append(f"| `FRONTDESK_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(settings_markdown(), end="")
