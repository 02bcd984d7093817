"""Database tables. Import from here: ``from frontdesk.models import Message``."""
from frontdesk.models.ban import BanRow
from frontdesk.models.base import Base, utcnow
from frontdesk.models.conversation import Conversation, ConversationStatus, Message, MessageKind
from frontdesk.models.department import (
    DEFAULT_CHAT_LIMIT,
    Department,
    DepartmentMember,
    OperatorRouting,
    SiteRouting,
)
from frontdesk.models.escalation import SiteEscalation
from frontdesk.models.invitation import InvitationEvent, InvitationRule, ManualInvitation
from frontdesk.models.operator import Operator, OperatorRole, OperatorSession, OperatorStatus, SiteMember
from frontdesk.models.outbox import OutboxEmail, OutboxKind, OutboxStatus
from frontdesk.models.phrase import Phrase, PhraseHotkey, PhraseSettings, PhraseUsage, SpellWord
from frontdesk.models.quality import ConversationQuality, QualityCriterion, SiteQualitySettings
from frontdesk.models.rating import ConversationRating
from frontdesk.models.report import ConversationOperatorStats, ConversationStats
from frontdesk.models.site import Site
from frontdesk.models.team import OperatorPresence, Transfer, TransferStatus
from frontdesk.models.visit import OperatorCardFields, PageView, Visit
from frontdesk.models.visitor import Visitor

__all__ = [
    "Base", "utcnow", "Site", "SiteMember", "Operator", "OperatorSession", "OperatorRole",
    "OperatorStatus", "Visitor", "Conversation", "ConversationStatus", "Message", "MessageKind",
    "OutboxEmail", "OutboxKind", "OutboxStatus", "Phrase", "PhraseUsage", "PhraseHotkey", "SpellWord",
    "ConversationRating",
    "Visit", "PageView", "OperatorCardFields",
    "OperatorPresence", "Transfer", "TransferStatus",
    "SiteEscalation",
    "PhraseSettings",
    "InvitationRule", "InvitationEvent", "ManualInvitation",
    "ConversationQuality", "QualityCriterion", "SiteQualitySettings",
    "BanRow",
    "Department", "DepartmentMember", "SiteRouting", "OperatorRouting", "DEFAULT_CHAT_LIMIT",
    "ConversationStats", "ConversationOperatorStats",
]
