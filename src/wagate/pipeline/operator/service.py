"""The operator service: every operator action, whichever door it comes through (API, CLI,
later the console), is validated, done and recorded here, once.

Actions are grouped (`accounts`, `sending`, `dead_letters`, `channels`, `contacts`, `keys`,
`trail`, `knowledge`, `reviews`, `conversations`, `users`, `intakes`, `media`); each takes
`by=Actor`, requires the `Permission` it needs of the actor's role first (`Forbidden`
otherwise) and writes one audit record with the same action name, subject and details for every
caller. Other errors are
`NotFound`, `Rejected` or `Conflict` (see `errors`). A new action goes in its group's module, a
new group in a module of its own."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from wagate.domain.capabilities import Capabilities
from wagate.domain.case_intake import IntakeFlow
from wagate.domain.messages import Provider
from wagate.domain.outbound_files import UploadLimits
from wagate.domain.review import DEFAULT_REJECT_TEXT
from wagate.domain.window import TemplateSet
from wagate.pipeline.operator.accounts import Accounts
from wagate.pipeline.operator.case_intakes import CaseIntakeRecords, CaseIntakes
from wagate.pipeline.operator.channels import Channels
from wagate.pipeline.operator.contacts import Contacts
from wagate.pipeline.operator.conversations import Conversations
from wagate.pipeline.operator.dead_letters import DeadLetters
from wagate.pipeline.operator.kb import Knowledge
from wagate.pipeline.operator.keys import Keys
from wagate.pipeline.operator.media import MediaFiles, MediaLibrary
from wagate.pipeline.operator.ports import (
    AccountStore,
    AuditLog,
    ContactRightsStore,
    ConversationDesk,
    CredentialStore,
    DeadLetterStore,
    DeliveryLog,
    KeyStore,
    Outbox,
    PasswordHasher,
    RecipientCheck,
    UserStore,
)
from wagate.pipeline.operator.recipients import AnyoneMayBeWritten, Recipients
from wagate.pipeline.operator.recorder import Recorder
from wagate.pipeline.operator.reviews import Reviews, ReviewStore
from wagate.pipeline.operator.sending import Sending
from wagate.pipeline.operator.trail import Trail
from wagate.pipeline.operator.users import Users
from wagate.pipeline.ports import (
    Handover,
    KnowledgeAdmin,
    KnowledgeRefreshQueue,
    MediaVault,
    VaultStore,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorService:
    accounts: Accounts
    sending: Sending
    dead_letters: DeadLetters
    channels: Channels
    contacts: Contacts
    keys: Keys
    trail: Trail
    knowledge: Knowledge
    reviews: Reviews | None = None  # drafts for a lawyer (AI7); None: no draft store wired
    conversations: Conversations
    users: Users
    intakes: CaseIntakes | None = None  # WhatsApp Flow case intakes (FL1); None: not wired
    media: MediaFiles  # files people sent (MD1): list and download, audited

    @classmethod
    def build(
        cls,
        *,
        audit: AuditLog,
        clock: Callable[[], datetime],
        accounts: AccountStore,
        outbox: Outbox,
        channels: Mapping[Provider, str],
        capabilities: Mapping[Provider, Capabilities],
        templates: TemplateSet,
        link_code_text: str,
        link_code_template: tuple[str, str] | None = None,
        dead_letters: DeadLetterStore,
        credentials: CredentialStore,
        rights: ContactRightsStore,
        keys: KeyStore,
        users: UserStore,
        passwords: PasswordHasher,
        recipients: RecipientCheck | None = None,
        knowledge: KnowledgeAdmin | None = None,
        knowledge_refreshes: KnowledgeRefreshQueue | None = None,
        knowledge_folder: Path | None = None,
        review_drafts: ReviewStore | None = None,
        vaults: VaultStore | None = None,
        handover: Handover | None = None,
        review_disclaimer: str = "",
        review_reject_text: str | None = None,
        desk: ConversationDesk | None = None,
        deliveries: DeliveryLog | None = None,
        case_intakes: CaseIntakeRecords | None = None,
        intake_flow: IntakeFlow | None = None,
        media: MediaLibrary | None = None,
        vault: MediaVault | None = None,
        upload_limits: UploadLimits | None = None,
    ) -> OperatorService:
        """Assemble every group on one recorder (one audit trail, one clock)."""
        recorder = Recorder(audit=audit, clock=clock)
        check = recipients or AnyoneMayBeWritten()
        conversations = Conversations(desk=desk, recorder=recorder, check=check, vaults=vaults)
        reviews = (
            Reviews(
                store=review_drafts,
                vaults=vaults,
                recorder=recorder,
                handover=handover,
                # Taking a draft over takes its conversation as the person who did (their
                # hold, their idle time), through the take-over group when there is a desk.
                take_conversation=conversations.take if desk is not None else None,
                disclaimer=review_disclaimer,
                reject_text=review_reject_text or DEFAULT_REJECT_TEXT,
            )
            if review_drafts is not None and vaults is not None
            else None
        )
        sending = Sending(
            outbox=outbox,
            channels=channels,
            capabilities=capabilities,
            recorder=recorder,
            templates=templates,
            check=check,
            deliveries=deliveries,
            vault=vault,
            upload_limits=upload_limits or UploadLimits(),
        )
        return cls(
            accounts=Accounts(
                store=accounts,
                sending=sending,
                recorder=recorder,
                link_code_text=link_code_text,
                link_code_template=link_code_template,
            ),
            sending=sending,
            dead_letters=DeadLetters(
                store=dead_letters,
                recorder=recorder,
                recipients=Recipients(recorder=recorder, check=check),
            ),
            channels=Channels(credentials=credentials, configured=set(channels), recorder=recorder),
            contacts=Contacts(rights=rights, recorder=recorder),
            keys=Keys(store=keys, recorder=recorder),
            trail=Trail(log=audit, recorder=recorder),
            knowledge=Knowledge(
                base=knowledge,
                refreshes=knowledge_refreshes,
                folder=knowledge_folder,
                recorder=recorder,
            ),
            reviews=reviews,
            conversations=conversations,
            users=Users(store=users, passwords=passwords, recorder=recorder),
            intakes=CaseIntakes(
                records=case_intakes,
                sending=sending,
                recorder=recorder,
                flow=intake_flow or IntakeFlow(),
            )
            if case_intakes is not None
            else None,
            media=MediaFiles(library=media, recorder=recorder),
        )
