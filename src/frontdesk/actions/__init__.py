"""Use cases: the only code that reads or writes domain state and publishes events.

Imports go one way (checked by the import-linter contracts in pyproject.toml)::

    background → admin → offline_form | contacts | no_reply | outbox | phrases | spelling → operators | conversations
      → visitors → sites | hours | emails → writer → queries | health → identity → validate → errors

Public actions take the runtime (``rt``) and plain values, own their transaction,
and publish events only after it committed. ``web/`` and ``realtime/`` decode input,
call an action and encode its result; they never open a database session.
"""
from __future__ import annotations

from frontdesk.actions.errors import ActionError, not_found

__all__ = ["ActionError", "not_found"]
