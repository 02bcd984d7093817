"""Every setting, once: name, default and help text.

Read from the environment (prefix ``FRONTDESK_``); CLI flags win. The table in
``docs/settings.md`` is generated from this module's fields and a test keeps
them in sync.
"""
from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FRONTDESK_", extra="ignore")

    data_dir: Path = Field(
        Path("./frontdesk-data"),
        description="Directory for the SQLite database, the generated secret key and uploaded photos.")
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
    offer_repeat: float = Field(
        60.0, description="Seconds after which a waiting conversation nobody took is offered (alerted) again.")
    login_max_failures: int = Field(
        5, description="Failed logins per minute per address+e-mail before login answers 429.")
    session_days: int = Field(30, description="Days an operator session lasts without activity.")
    photo_max_bytes: int = Field(512 * 1024, description="Largest operator photo upload, bytes.")
    demo: bool = Field(False, description="Create the demo site, admin and operator, and serve `/demo/`.")
    log_level: str = Field("info", description="Log level: debug, info, warning, error.")

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
