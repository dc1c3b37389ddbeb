"""The console's sections, in the order the menu shows them, and who sees each.

A section is listed only for a role that may use it (`Permission`); the pages check again
through the operator service, which is what actually refuses.
"""

from __future__ import annotations

from dataclasses import dataclass

from wagate.domain.operators import Permission


@dataclass(frozen=True, slots=True)
class Section:
    path: str
    label: str  # English; translated when shown
    permission: Permission
    sandbox_only: bool = False
    # The gateway's own configuration: only for the platform's (default) tenant, whose
    # settings those are; another tenant's admin is no operator of the platform.
    platform_only: bool = False


SECTIONS = (
    Section("/console/sandbox", "Try it", Permission.READ, sandbox_only=True),
    Section("/console/conversations", "Conversations", Permission.READ),
    Section("/console/reviews", "Review queue", Permission.READ),
    Section("/console/intakes", "Case intakes", Permission.READ),
    Section("/console/knowledge", "Knowledge base", Permission.READ),
    Section("/console/dead-letters", "Dead letters", Permission.READ),
    Section("/console/audit", "Audit trail", Permission.READ),
    Section("/console/accounts", "Accounts", Permission.READ),
    Section("/console/channels", "Channels", Permission.READ),
    Section("/console/users", "Users", Permission.ADMINISTER),
    Section("/console/settings", "Settings", Permission.ADMINISTER, platform_only=True),
)
