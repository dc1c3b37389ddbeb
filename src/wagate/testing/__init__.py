"""In-memory ports for fast tests of the pipeline (shipped with wagate, so tests of other
packages and of extensions can use them too). Each one keeps what it was told in plain fields
a test can read and set; none of them is thread- or process-safe, and none is meant to run a
gateway."""

from wagate.testing.alerts import MemoryAlerts, MemoryAlertStore
from wagate.testing.assistant import ScriptedAssistant
from wagate.testing.audit import MemoryAudit
from wagate.testing.clock import Clock
from wagate.testing.conversations import (
    MemoryConversationStore,
    MemoryIdentityStore,
    MemorySessionStore,
    MemoryVaultStore,
)
from wagate.testing.handover import MemoryHandover
from wagate.testing.health import MemoryHealth
from wagate.testing.intakes import MemoryCaseIntakes
from wagate.testing.knowledge import MemoryKnowledgeBase, MemoryRefreshQueue
from wagate.testing.lawyer import FixedZones, MemoryDrafts
from wagate.testing.mail import Mailbox
from wagate.testing.outbox import MemoryOutbox, Row
from wagate.testing.providers import Directory, ScriptedProvider
from wagate.testing.recipients import OptOutList

__all__ = [
    "Clock",
    "Directory",
    "FixedZones",
    "Mailbox",
    "MemoryAlertStore",
    "MemoryAlerts",
    "MemoryAudit",
    "MemoryCaseIntakes",
    "MemoryConversationStore",
    "MemoryDrafts",
    "MemoryHandover",
    "MemoryHealth",
    "MemoryIdentityStore",
    "MemoryKnowledgeBase",
    "MemoryOutbox",
    "MemoryRefreshQueue",
    "MemorySessionStore",
    "MemoryVaultStore",
    "OptOutList",
    "Row",
    "ScriptedAssistant",
    "ScriptedProvider",
]
