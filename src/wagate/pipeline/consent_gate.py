"""Moved: the consent step is wagate.pipeline.conversation.consent (kept for importers)."""

from wagate.pipeline.conversation.consent import ConsentGate, NoticeDraft

__all__ = ["ConsentGate", "NoticeDraft"]
