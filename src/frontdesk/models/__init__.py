"""Database tables. Import from here: ``from frontdesk.models import Message``."""
from frontdesk.models.base import Base, utcnow
from frontdesk.models.conversation import Conversation, ConversationStatus, Message, MessageKind
from frontdesk.models.operator import Operator, OperatorRole, OperatorSession, OperatorStatus, SiteMember
from frontdesk.models.outbox import OutboxEmail, OutboxKind, OutboxStatus
from frontdesk.models.site import Site
from frontdesk.models.team import OperatorPresence, Transfer, TransferStatus
from frontdesk.models.visitor import Visitor

__all__ = [
    "Base", "utcnow", "Site", "SiteMember", "Operator", "OperatorSession", "OperatorRole",
    "OperatorStatus", "Visitor", "Conversation", "ConversationStatus", "Message", "MessageKind",
    "OutboxEmail", "OutboxKind", "OutboxStatus", "OperatorPresence", "Transfer", "TransferStatus",
]
