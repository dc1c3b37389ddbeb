"""Operator users' roles and what each may do (AI7, OB8).

People, not one shared token: every action names a person, and the role decides whether they
may do it. The rules are here, pure, so every door (API, CLI, console) refuses the same way.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # everything, including users, keys, channels and the knowledge base
    LAWYER = "lawyer"  # approves drafts; takes conversations over
    STAFF = "staff"  # takes conversations over, replies, replays dead letters, sends
    VIEWER = "viewer"  # reads only


class Permission(StrEnum):
    READ = "read"  # see conversations, drafts, dead letters, the audit trail
    APPROVE = "approve"  # approve, edit or reject a lawyer's-review draft
    TAKE_OVER = "take_over"  # take a conversation from the AI, reply as a human, release it
    OPERATE = "operate"  # everyday operations: send, replay dead letters, link accounts
    ADMINISTER = "administer"  # users, keys, channels, knowledge base, settings


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.LAWYER: frozenset({Permission.READ, Permission.APPROVE, Permission.TAKE_OVER}),
    Role.STAFF: frozenset({Permission.READ, Permission.TAKE_OVER, Permission.OPERATE}),
    Role.VIEWER: frozenset({Permission.READ}),
}


def may(role: Role, permission: Permission) -> bool:
    return permission in GRANTS[role]
