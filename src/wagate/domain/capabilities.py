"""What a WhatsApp provider can do, declared by its adapter (so the pipeline asks, never
branches on which provider it is)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Capabilities:
    # Free-form messages only within 24 h of the contact's last message (Meta's customer
    # service window); outside it only templates may go.
    window_24h: bool = False
    # Delivery statuses arrive by webhook and echo our tracker (idempotency key), so silence
    # after a lost send answer can be read as "never arrived".
    status_webhooks: bool = False
    templates: bool = False  # approved message templates
    media: bool = False  # documents, images, audio, video
    interactive: bool = False  # reply buttons and lists
    flows: bool = False  # WhatsApp Flows
    # A text may ask for a preview card of its first link (Meta's `preview_url`).
    link_previews: bool = False
    reactions: bool = False  # an emoji on a message the person sent
    # A file the operator uploads (not a link) can be sent: Meta through its media upload,
    # Fonnte as the `file` field of its send. `upload_max_bytes`: the provider's own ceiling,
    # below the gateway's limits (Fonnte: 4 MB); None when the gateway's limits rule.
    media_uploads: bool = False
    upload_max_bytes: int | None = None
