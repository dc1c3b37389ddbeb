"""PII masking (CP1): find personal data in chat text, replace it with conversation-stable
placeholders before anything goes to the AI, and restore the placeholders in its answer.

Pure: no I/O, no logging, no clock. `phonenumbers` is the one dependency outside the
standard library, confined to `phones.py`. The word tiers in `data/words.py` are generated
at build time (tests/data/pii/make_words.py); an optional named-entity model plugs in as a
recogniser (`model_stage.py`).

    vault = PlaceholderVault.from_dict(stored) if stored else PlaceholderVault()
    prompt_text = mask(message, vault=vault, known_names=(profile_name, account_name))
    # or, for all the turns of one call at once: mask_turns(turns, vault=vault, …)
    reply = unmask(ai_answer, vault)
    store(encrypt(vault.to_dict()))
"""

from wagate.domain.privacy.masking import mask, mask_turns, unmask
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
    "mask_turns",
    "unmask",
]
