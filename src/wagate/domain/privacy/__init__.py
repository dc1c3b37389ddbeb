"""PII masking (CP1): find personal data in chat text, replace it with conversation-stable
placeholders before anything goes to the AI, and restore the placeholders in its answer.

Pure: no I/O, no logging, no clock. `phonenumbers` is the one dependency outside the
standard library, confined to `phones.py`.

    vault = PlaceholderVault.from_dict(stored) if stored else PlaceholderVault()
    prompt_text = mask(message, vault=vault, known_names=(profile_name, account_name))
    reply = unmask(ai_answer, vault)
    store(encrypt(vault.to_dict()))
"""

from wagate.domain.privacy.masking import mask, unmask
from wagate.domain.privacy.nik import is_valid_nik
from wagate.domain.privacy.recognizers import find_pii
from wagate.domain.privacy.spans import EntityType, Span
from wagate.domain.privacy.vault import PlaceholderVault, VaultEntry

__all__ = [
    "EntityType",
    "PlaceholderVault",
    "Span",
    "VaultEntry",
    "find_pii",
    "is_valid_nik",
    "mask",
    "unmask",
]
