"""Who acts: every operator action names its actor, and the audit trail records it."""

from __future__ import annotations

from dataclasses import dataclass

from wagate.domain.operators import Permission, Role, may
from wagate.pipeline.operator.errors import Forbidden


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    """`via`: the door the action came through ("api", "cli", later "console"); `user`: who,
    when the door knows (a console user's id). Today's doors know only that someone holds the
    API token or a shell on the host: that is the operator."""

    via: str
    user: str | None = None
    role: Role = Role.ADMIN  # the shared token and a shell on the host act as admin

    def may(self, permission: Permission) -> bool:
        return may(self.role, permission)

    def require(self, permission: Permission) -> None:
        """Refuse (Forbidden) unless the actor's role allows `permission`."""
        if not self.may(permission):
            raise Forbidden(f"role {self.role.value} may not {permission.value.replace('_', ' ')}")

    def __post_init__(self) -> None:
        if not self.via or ":" in self.via:
            raise ValueError("an actor needs a door without ':'")

    @property
    def audit_name(self) -> str:
        """The audit trail's `actor`: "operator:api", "operator:cli", "user:7:console"."""
        return f"operator:{self.via}" if self.user is None else f"user:{self.user}:{self.via}"


API = Actor(via="api")
CLI = Actor(via="cli")
