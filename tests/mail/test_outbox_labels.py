"""Every kind of queued e-mail has a label in both panel catalogs (the dialog's e-mail line shows it)."""
from pathlib import Path

from frontdesk.models.outbox import OutboxKind

I18N = Path(__file__).resolve().parents[2] / "src" / "frontdesk" / "static" / "panel" / "js" / "i18n.js"


def test_every_outbox_kind_has_a_russian_and_an_english_label():
    text = I18N.read_text(encoding="utf-8")
    missing = [k.value for k in OutboxKind if text.count(f"'mail.kind.{k.value}':") != 2]
    assert missing == []
