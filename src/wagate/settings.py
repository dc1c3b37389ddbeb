"""Settings, parsed once at the edge (environment, `.env`) with the seeds' variable names (MT3).

A half-configured provider is an error at start, naming exactly what is missing: a gateway that
starts and then silently drops a provider's webhooks is the failure we most want to avoid.
"""

from __future__ import annotations

import importlib
import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from wagate.domain.case_intake import DEFAULT_CTA, FIRST_SCREEN, IntakeFlow
from wagate.domain.case_intake import DEFAULT_KEYWORD as DEFAULT_INTAKE_KEYWORD
from wagate.domain.flows import MAX_BODY_CHARS, MAX_CTA_CHARS, FlowError
from wagate.domain.identity import IdentityPolicy
from wagate.domain.window import TemplateError, TemplateSet
from wagate.domain.zones import ReviewMode
from wagate.providers.fonnte.client import DEFAULT_FONNTE_URL
from wagate.providers.meta.client import DEFAULT_GRAPH_URL
from wagate.providers.meta.flow_endpoint import FlowKeyError, load_private_key
from wagate.triage_rules import (
    TriageModelError,
    TriageRulesError,
    load_rule_set,
    load_triage_model,
)

MIN_FONNTE_SECRET_LENGTH = 16
OPENROUTER_URL = "https://openrouter.ai/api/v1"
DEFAULT_SYSTEM_PROMPT = (
    "Anda adalah asisten yang sopan, ramah dan ringkas yang menjawab melalui WhatsApp. "
    "Jawablah dalam bahasa Indonesia yang baik dan jelas, kecuali pengguna menulis dalam bahasa "
    "lain. Buat jawaban singkat dan mudah dibaca di ponsel: paragraf pendek, daftar bila perlu, "
    "tanpa tabel. Jika Anda tidak tahu jawabannya, katakan terus terang."
)


# The names WAGATE_LOG_LEVEL takes (any case), those of the standard logging module.
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigurationError(Exception):
    """The settings cannot work; the message says what to set."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # Meta WhatsApp Cloud API
    meta_app_secret: SecretStr | None = None
    meta_access_token: SecretStr | None = None
    meta_phone_number_id: str | None = None
    meta_business_account_id: str | None = None
    meta_webhook_verify_token: SecretStr | None = None
    meta_graph_url: str = DEFAULT_GRAPH_URL

    # Fonnte
    fonnte_token: SecretStr | None = None
    fonnte_webhook_secret: SecretStr | None = None
    fonnte_api_url: str = DEFAULT_FONNTE_URL
    fonnte_allowed_ips: Annotated[tuple[str, ...], NoDecode] = ()
    # More provider adapters: comma-separated "package.module:callable" (see provider_catalog).
    wagate_provider_plugins: Annotated[tuple[str, ...], NoDecode] = ()

    # Gateway
    database_url: SecretStr | None = None  # the tables' owner: migrations run as it
    # The role the gateway connects as (row-level security binds it): an explicit URL, or
    # this role created on DATABASE_URL's server (password: WAGATE_DB_APP_PASSWORD, else one
    # generated into the data dir).
    database_app_url: SecretStr | None = None
    wagate_db_app_role: str = Field(default="wagate_app", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    wagate_db_app_password: SecretStr | None = None
    wagate_api_token: SecretStr | None = None
    # `id:base64,id:base64…`, first is current; unset → a key file in the data dir.
    wagate_encryption_keys: SecretStr | None = None
    wagate_data_dir: Path = Path(".wagate")
    wagate_tenant: str = "default"
    wagate_max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    wagate_log_level: str = "INFO"
    # auto: readable lines on a terminal, JSON lines otherwise (files, pipes, journald).
    wagate_log_format: Literal["auto", "json", "console"] = "auto"
    # A bare 200-OK route on the same server, so benchmarks can show the framework's own cost.
    wagate_bench_endpoint: bool = False

    # Hostile clients: forwarded headers only from these proxies (comma-separated IPs/networks,
    # `*` for any; empty trusts none), and bounds on slow or many unfinished requests.
    forwarded_allow_ips: Annotated[tuple[str, ...], NoDecode] = ()
    wagate_header_timeout_seconds: float = Field(default=10.0, gt=0)
    wagate_body_timeout_seconds: float = Field(default=30.0, gt=0)
    wagate_max_pending_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    wagate_max_connections: int = Field(default=1000, ge=1)
    # Swagger UI loads its assets from a CDN: off unless asked for.
    wagate_api_docs: bool = False

    # Conversation jobs
    debounce_seconds: float = Field(default=15.0, ge=0)
    debounce_max_seconds: float = Field(default=60.0, ge=0)
    # The response time the gateway promises (seed 000: 30 s end to end): slower responses
    # count as SLA breaches in /metrics (whatsapp_sla_breach_total).
    sla_seconds: float = Field(default=30.0, gt=0)
    # Conversations a worker runs at once. A run mostly waits (the AI answers in seconds), so
    # this bounds answers per AI latency: 16 gave 5 a second at a 3 s model. Database
    # connections do not grow with it (the pool stops at 16 + 2: runtime/processes.py).
    worker_concurrency: int = Field(default=64, ge=1, le=256)
    sweep_interval_seconds: float = Field(default=30.0, gt=0)
    job_poll_seconds: float = Field(default=0.5, gt=0)
    send_attempts: int = Field(default=6, ge=1)
    # A provider call that takes longer is abandoned; a read timeout leaves the outcome unknown.
    provider_timeout_seconds: float = Field(default=10.0, gt=0)
    # An unknown outcome (timeout after sending, crash mid-call) waits this long for a status
    # webhook carrying our idempotency key before the message is sent again (OU9).
    send_reconcile_seconds: float = Field(default=20.0, ge=0)
    # Circuit breaker per tenant and provider channel (OU5).
    breaker_failures: int = Field(default=5, ge=1)
    breaker_cooldown_seconds: float = Field(default=5.0, gt=0)
    breaker_max_cooldown_seconds: float = Field(default=120.0, gt=0)
    # Token expiry (OU7): how often a degraded channel is probed, and a healthy one checked.
    degraded_probe_seconds: float = Field(default=15.0, gt=0)
    credential_check_seconds: float = Field(default=300.0, gt=0)
    # Pair pacing (OU6): Meta allows about one message per 6 s to one user, with short bursts.
    pair_burst: int = Field(default=8, ge=1)
    pair_interval_seconds: float = Field(default=6.0, ge=0)
    # An inbound burst whose processing fails this many times is dead-lettered (OU3).
    inbound_attempts: int = Field(default=5, ge=1)

    # E-mail fallback (OU4): a message WhatsApp could not deliver goes to the account's e-mail.
    smtp_host: str | None = None
    smtp_port: int | None = Field(default=None, ge=1, le=65535)  # default: 465 TLS, else 587/25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    smtp_starttls: bool = True  # upgrade a plain connection (ignored with SMTP_TLS)
    smtp_tls: bool = False  # implicit TLS from the first byte (port 465)
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    smtp_subject: str = "Pesan dari layanan WhatsApp kami"

    # Take-over and on-duty staff (AI7): a human's hold on a conversation lapses after this
    # long without their activity; alerts go to these addresses over the SMTP settings, with
    # a console link when PUBLIC_URL (the gateway's address as staff reach it) is set.
    takeover_idle_minutes: float = Field(default=60.0, gt=0)
    urgent_notify_emails: Annotated[tuple[str, ...], NoDecode] = ()
    public_url: str | None = None

    # The operator console at /console (OB4): a signed-in browser is signed out after this
    # long unused, and this long after signing in whatever happens. Its cookie is marked
    # Secure when the request came over HTTPS (directly, or through a proxy in
    # FORWARDED_ALLOW_IPS), or always with CONSOLE_SECURE_COOKIE=true.
    console_enabled: bool = True
    console_idle_minutes: float = Field(default=30.0, gt=0)
    console_session_hours: float = Field(default=12.0, gt=0)
    console_secure_cookie: bool = False
    console_language: Literal["id", "en"] = "id"

    # Identity, sessions and policies before the AI
    identity_policy: IdentityPolicy = IdentityPolicy.OPEN
    session_timeout_minutes: float = Field(default=30.0, gt=0)
    history_messages: int = Field(default=20, ge=0, le=500)
    rate_limit_per_minute: int = Field(default=10, ge=1)
    max_message_chars: int = Field(default=1000, ge=1)
    link_notice_text: str | None = None
    rate_limit_notice_text: str | None = None
    too_long_notice_text: str | None = None
    non_text_notice_text: str | None = None
    apology_text: str | None = None

    # Privacy (UU PDP)
    consent_required: bool = False
    consent_keyword: str = Field(default="SETUJU", min_length=1)
    optout_keyword: str = Field(default="BERHENTI", min_length=1)
    ai_disclosure_text: str | None = None
    ai_disclaimer_text: str | None = None
    retention_days: int = Field(default=30, ge=1)
    # Templates (TP1): a JSON list of {name, language, parameters: [names], purpose}; purpose
    # "out_of_window" carries a message that missed the 24-hour window.
    whatsapp_templates: str | None = None
    whatsapp_templates_file: Path | None = None
    # A link code outside the 24-hour window goes as this approved AUTHENTICATION template
    # (Meta's category for one-time codes: the code is its body's parameter and its copy-code
    # button's); unset, it goes through the out_of_window template like any message.
    link_code_template: str | None = Field(default=None, min_length=1, max_length=512)
    link_code_template_language: str = Field(default="id", min_length=2, max_length=20)

    # Assistant (any OpenAI-compatible chat-completions endpoint)
    ai_base_url: str | None = None
    ai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("AI_API_KEY", "OPENROUTER_API_KEY")
    )
    ai_model: str | None = None
    ai_fallback_models: Annotated[tuple[str, ...], NoDecode] = ()
    ai_timeout_seconds: float = Field(default=30.0, gt=0)
    ai_context_hook: str | None = None  # "package.module:function" or an http(s) URL
    # Optional named-entity model beside the built-in PII recognisers (the `ner` extra): a
    # local token-classification model directory.
    pii_ner_model: str | None = None
    pii_ner_min_score: float = Field(default=0.6, ge=0.0, le=1.0)
    system_prompt: str | None = None
    system_prompt_file: Path | None = None

    # Knowledge base (AI3, AI4): the firm's documents, read at start and on refresh; the sandbox
    # loads a sample when the folder is empty. Other tenants' folders are `KB_DIR/tenants/<id>`.
    kb_dir: Path | None = None  # default: $WAGATE_DATA_DIR/knowledge
    # Decline what the knowledge base does not cover (offer a lawyer) instead of asking the AI;
    # unset: on once the tenant's knowledge base has any chunk.
    kb_strict: bool | None = None
    kb_passages: int = Field(default=3, ge=1, le=20)
    kb_decline_text: str | None = None
    kb_max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    kb_max_file_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    # Embeddings for vector similarity beside full-text and trigram search (optional; needs
    # pgvector): a model on the same OpenAI-compatible endpoint as AI_MODEL.
    ai_embedding_model: str | None = None
    # Voice notes (MD1): a speech-to-text model on the same endpoint (POST /audio/transcriptions;
    # e.g. whisper-1, gpt-4o-mini-transcribe). Unset: voice notes are kept and the person is
    # asked to write. Recordings over the size limit are not sent (OpenAI's own limit is
    # 25 MB); the language is a hint (empty: the model guesses); failures are tried again
    # from the queue this many times in all, then the person is asked to write.
    ai_transcription_model: str | None = None
    ai_transcription_language: str = Field(default="id", max_length=16)
    ai_transcription_max_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    ai_transcription_attempts: int = Field(default=4, ge=1, le=50)
    ai_transcription_timeout_seconds: float = Field(default=120.0, gt=0)
    # Photos (MD1): a vision-capable model on the same endpoint sees the photos people send,
    # beside their OCR text. Off unless set: photos leave the gateway unmasked (see README);
    # a photo whose OCR text shows an identity number or an identity document's heading is
    # never sent, nor is any photo of a red or human-held conversation.
    ai_vision_model: str | None = None
    # Whether AI_VISION_MODEL sees this tenant's photos. A tenant override: a firm may turn
    # vision off for its clients, or, with the platform's set to false, the platform offers
    # the model and each firm that wants it turns it on. Without AI_VISION_MODEL it does
    # nothing.
    ai_vision_enabled: bool = True

    # Inbound files (MD1): where they are kept (sealed in chunks; a folder under the data dir
    # unless S3_BUCKET names an S3-compatible bucket), the largest accepted per kind of
    # message, how often a fetch is tried, and what the person is told.
    media_dir: Path | None = None  # default: $WAGATE_DATA_DIR/media
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None  # MinIO, Ceph, R2 …; unset: AWS
    s3_region: str | None = None
    s3_access_key_id: str | None = None  # unset: boto3's own chain (AWS_*, instance role)
    s3_secret_access_key: SecretStr | None = None
    s3_prefix: str = ""
    media_max_image_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    media_max_document_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)
    media_max_audio_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    media_max_video_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    media_max_sticker_bytes: int = Field(default=512 * 1024, ge=1024)
    media_fetch_attempts: int = Field(default=8, ge=1, le=50)
    # Files an operator sends by upload (`POST /api/whatsapp/send-file`, `wagate send --file`):
    # the largest per kind, as inbound (Meta takes photos up to 5 MB, documents up to 100 MB;
    # a provider's own lower ceiling, Fonnte's 4 MB, applies on top). Kept sealed in the same
    # store as inbound files until the provider accepts the message.
    outbound_max_image_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    outbound_max_document_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)
    # A document's text joins the conversation (PDF, Word, text; OCR of photos and scans where
    # Tesseract is installed): files up to this size are read, and this much text is kept.
    media_text_max_bytes: int = Field(default=5 * 1024 * 1024, ge=0)
    media_text_max_chars: int = Field(default=4000, ge=0, le=100_000)
    media_received_text: str | None = None
    audio_received_text: str | None = None
    audio_failed_text: str | None = None  # a voice note kept but its transcription failed
    media_too_large_text: str | None = None
    media_refused_text: str | None = None
    media_mismatch_text: str | None = None
    media_unavailable_text: str | None = None

    # Triage (AI7): the firm's rules over the packaged defaults (a TOML file, checked at start),
    # and whether a configured AI classifies beside them, within a short timeout. TRIAGE_MODEL:
    # the learned detector shipped with the gateway may raise the rules' zone (on by default;
    # off: the rules, and the AI where configured, decide alone).
    triage_rules_file: Path | None = None
    triage_ai: bool = True
    triage_model: bool = True
    triage_ai_timeout_seconds: float = Field(default=5.0, gt=0)
    # Lawyer in the loop (AI7): which AI answers wait for a lawyer (off | yellow | all; unset:
    # yellow once the knowledge base is loaded or a lawyer user exists, else off), what the
    # person reads meanwhile or on a rejection, the review deadline, a red message's holding
    # reply, and the zone triage plugin ("package.module:callable", a ZoneTriage: called with
    # the question and the earlier user turns, returns a ZoneCall).
    review_mode: ReviewMode | None = None
    review_ack_text: str | None = None
    review_reject_text: str | None = None
    review_sla_minutes: float = Field(default=30.0, gt=0)
    urgent_holding_text: str | None = None
    wagate_zone_triage: str | None = None

    # Case intake through a WhatsApp Flow (FL1): the published Flow's id at Meta (unset: the
    # keyword does nothing and operators cannot send it; the sandbox sets its own), the
    # keyword that asks for it, the screen it opens on, the button, the texts around it, and
    # `draft` to try an unpublished Flow.
    intake_flow_id: str | None = Field(default=None, pattern=r"^[0-9A-Za-z_-]{1,64}$")
    intake_keyword: str = Field(default=DEFAULT_INTAKE_KEYWORD, min_length=1, max_length=40)
    intake_flow_screen: str = Field(default=FIRST_SCREEN, pattern=r"^[A-Za-z][A-Za-z_]{0,63}$")
    intake_flow_cta: str = Field(default=DEFAULT_CTA, min_length=1, max_length=MAX_CTA_CHARS)
    intake_flow_mode: Literal["published", "draft"] = "published"
    intake_invite_text: str | None = Field(default=None, min_length=1, max_length=MAX_BODY_CHARS)
    intake_confirmation_text: str | None = Field(default=None, min_length=1, max_length=2000)
    intake_problem_text: str | None = Field(default=None, min_length=1, max_length=2000)
    # The Flows data endpoint (POST /flows/endpoint), only for Flows that exchange data with
    # the gateway: the RSA private key whose public half is registered with Meta (PEM text, or
    # a file), its passphrase if it has one. Requests are signed with META_APP_SECRET.
    intake_flow_private_key: SecretStr | None = None
    intake_flow_private_key_file: Path | None = None
    intake_flow_private_key_passphrase: SecretStr | None = None

    @property
    def knowledge_dir(self) -> Path:
        return self.kb_dir if self.kb_dir is not None else self.wagate_data_dir / "knowledge"

    @property
    def media_folder(self) -> Path:
        return self.media_dir if self.media_dir is not None else self.wagate_data_dir / "media"

    @field_validator(
        "fonnte_allowed_ips",
        "ai_fallback_models",
        "wagate_provider_plugins",
        "forwarded_allow_ips",
        "urgent_notify_emails",
        mode="before",
    )
    @classmethod
    def _split_ips(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("wagate_log_level", mode="before")
    @classmethod
    def _known_log_level(cls, value: Any) -> Any:
        # An unknown name used to fall back to INFO silently: say so at start instead.
        if not isinstance(value, str):
            return value
        level = value.strip().upper()
        level = "WARNING" if level == "WARN" else level  # the logging module's alias
        if level not in _LOG_LEVELS:
            raise ValueError(f"{value!r} is not a log level: use one of {', '.join(_LOG_LEVELS)}")
        return level

    @field_validator("wagate_log_format", mode="before")
    @classmethod
    def _lower_case_format(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("fonnte_allowed_ips")
    @classmethod
    def _valid_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for network in value:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError as exc:
                message = f"FONNTE_ALLOWED_IPS: {network!r} is not an IP or network"
                raise ValueError(message) from exc
        return value

    @field_validator("wagate_zone_triage")
    @classmethod
    def _importable_triage(cls, value: str | None) -> str | None:
        if value:
            check_plugin(value)
        return value or None

    @field_validator("urgent_notify_emails")
    @classmethod
    def _valid_addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return notify_addresses(value)

    @field_validator("public_url")
    @classmethod
    def _valid_public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not _PUBLIC_URL.fullmatch(value.strip()):
            raise ValueError(f"{value!r} is not an http(s) URL (https://host[:port])")
        return value.strip().rstrip("/")

    @field_validator("wagate_provider_plugins")
    @classmethod
    def _importable_plugins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for spec in value:
            check_plugin(spec)
        return value

    @model_validator(mode="after")
    def _complete_providers(self) -> Settings:
        problems = [*self._meta_problems(), *self._fonnte_problems()]
        if self.debounce_max_seconds < self.debounce_seconds:
            problems.append("DEBOUNCE_MAX_SECONDS must be at least DEBOUNCE_SECONDS")
        if self.smtp_host and not self.smtp_from:
            problems.append("SMTP_HOST is set: set SMTP_FROM too")
        if bool(self.smtp_username) != bool(self.smtp_password):
            problems.append("set SMTP_USERNAME and SMTP_PASSWORD together")
        if self.smtp_username and not (self.smtp_starttls or self.smtp_tls):
            problems.append("SMTP_USERNAME needs SMTP_STARTTLS or SMTP_TLS (no password in clear)")
        if bool(self.s3_access_key_id) != bool(self.s3_secret_access_key):
            problems.append("set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY together")
        if (self.s3_endpoint_url or self.s3_access_key_id) and not self.s3_bucket:
            problems.append("S3 settings are given: set S3_BUCKET too")
        if self.ai_base_url and not self.ai_model:
            problems.append("AI_BASE_URL is set: set AI_MODEL too")
        for name, value in (
            ("AI_TRANSCRIPTION_MODEL", self.ai_transcription_model),
            ("AI_VISION_MODEL", self.ai_vision_model),
        ):
            if value and not self.ai_configured:
                problems.append(f"{name} is set: set AI_BASE_URL (or AI_API_KEY) too")
        try:
            self.templates()
        except (OSError, ValueError) as exc:  # JSONDecodeError and TemplateError are ValueErrors
            problems.append(f"WHATSAPP_TEMPLATES: {exc}")
        if self.system_prompt_file is not None and not self.system_prompt_file.is_file():
            problems.append(f"SYSTEM_PROMPT_FILE: {self.system_prompt_file} is not a readable file")
        if self.triage_rules_file is not None:
            try:
                load_rule_set(self.triage_rules_file)
            except TriageRulesError as exc:
                problems.append(f"TRIAGE_RULES_FILE: {exc}")
        if self.triage_model:
            try:
                load_triage_model()
            except TriageModelError as exc:
                problems.append(f"TRIAGE_MODEL: the shipped weights cannot be used ({exc})")
        if self.intake_flow_id:
            try:
                self.intake_flow().invitation("settings-check")
            except FlowError as exc:
                problems.append(f"INTAKE_FLOW_* / INTAKE_INVITE_TEXT: {exc}")
        problems.extend(self._flow_endpoint_problems())
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _meta_problems(self) -> list[str]:
        # The app (secret, verify token) is the platform's: tenants' numbers may be added
        # later with `wagate tenants channel-add`. A number needs its token and the app.
        app = {
            "META_APP_SECRET": self.meta_app_secret,
            "META_WEBHOOK_VERIFY_TOKEN": self.meta_webhook_verify_token,
        }
        number = {
            "META_ACCESS_TOKEN": self.meta_access_token,
            "META_PHONE_NUMBER_ID": self.meta_phone_number_id,
        }
        missing_app = [name for name, value in app.items() if not _present(value)]
        missing_number = [name for name, value in number.items() if not _present(value)]
        if len(missing_number) < len(number):
            missing = missing_app + missing_number
            if missing:
                return [f"Meta is half-configured: set {', '.join(missing)}"]
        elif len(missing_app) == 1:
            return [f"Meta is half-configured: set {missing_app[0]}"]
        return []

    def _fonnte_problems(self) -> list[str]:
        required = {
            "FONNTE_TOKEN": self.fonnte_token,
            "FONNTE_WEBHOOK_SECRET": self.fonnte_webhook_secret,
        }
        missing = [name for name, value in required.items() if not _present(value)]
        if missing and len(missing) < len(required):
            return [f"Fonnte is half-configured: set {', '.join(missing)}"]
        secret = self.fonnte_webhook_secret
        if secret is not None and 0 < len(secret.get_secret_value()) < MIN_FONNTE_SECRET_LENGTH:
            return [
                f"FONNTE_WEBHOOK_SECRET must be at least {MIN_FONNTE_SECRET_LENGTH} characters: "
                "it is the only thing that authenticates Fonnte's webhooks"
            ]
        return []

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host and self.smtp_from)

    @property
    def ai_configured(self) -> bool:
        return bool(self.ai_base_url or self.ai_api_key)

    def templates(self) -> TemplateSet:
        raw = self.whatsapp_templates
        if self.whatsapp_templates_file is not None:
            raw = self.whatsapp_templates_file.read_text(encoding="utf-8")
        if not raw:
            return TemplateSet()
        items = json.loads(raw)
        if not isinstance(items, list):
            raise TemplateError("WHATSAPP_TEMPLATES must be a JSON list")
        return TemplateSet.parse(items)

    def flow_endpoint_key(self) -> bytes | None:
        """The Flows data endpoint's private key as PEM bytes (None: no endpoint)."""
        if self.intake_flow_private_key_file is not None:
            return self.intake_flow_private_key_file.read_bytes()
        if self.intake_flow_private_key is not None:
            # An environment variable often carries the PEM's line breaks as "\n".
            return self.intake_flow_private_key.get_secret_value().replace("\\n", "\n").encode()
        return None

    def _flow_endpoint_problems(self) -> list[str]:
        try:
            pem = self.flow_endpoint_key()
        except OSError as exc:
            return [f"INTAKE_FLOW_PRIVATE_KEY_FILE: cannot be read ({exc.strerror})"]
        if pem is None:
            return []
        if not self.meta_configured:
            return ["INTAKE_FLOW_PRIVATE_KEY needs META_APP_SECRET (Meta signs the requests)"]
        passphrase = self.intake_flow_private_key_passphrase
        try:
            load_private_key(pem, passphrase.get_secret_value().encode() if passphrase else None)
        except FlowKeyError as exc:
            return [f"INTAKE_FLOW_PRIVATE_KEY: {exc}"]
        return []

    def intake_flow(self) -> IntakeFlow:
        """Case intake as configured (FL1): the Flow, its keyword and texts (defaults for the
        texts left unset)."""
        defaults = IntakeFlow()
        return IntakeFlow(
            flow_id=self.intake_flow_id or None,
            keyword=self.intake_keyword,
            cta=self.intake_flow_cta,
            screen=self.intake_flow_screen,
            mode=self.intake_flow_mode,
            invite_text=self.intake_invite_text or defaults.invite_text,
            confirmation_text=self.intake_confirmation_text or defaults.confirmation_text,
            problem_text=self.intake_problem_text or defaults.problem_text,
        )

    def resolved_system_prompt(self) -> str:
        if self.system_prompt_file is not None:
            return self.system_prompt_file.read_text(encoding="utf-8").strip()
        return self.system_prompt if self.system_prompt is not None else DEFAULT_SYSTEM_PROMPT

    @property
    def meta_configured(self) -> bool:
        """The platform's Meta app is set: Meta webhooks are taken (for any tenant's number)."""
        return _present(self.meta_app_secret)

    @property
    def meta_number_configured(self) -> bool:
        """A Meta number for the default tenant is set in the environment."""
        return _present(self.meta_phone_number_id) and _present(self.meta_access_token)

    @property
    def fonnte_configured(self) -> bool:
        return _present(self.fonnte_token)

    # Set by the sandbox itself once it has started its fakes; not meant to be configured.
    sandbox_active: bool = False

    @property
    def needs_sandbox(self) -> bool:
        """No provider credentials and no provider plugin: run against built-in fakes (OB5)."""
        return not (self.meta_configured or self.fonnte_configured or self.wagate_provider_plugins)


class TenantOverrides(BaseModel):
    """The settings a tenant may hold of its own (MT1): what its clients read and the limits of
    its conversations. Everything else (database, queue, providers' URLs, timeouts) is the
    platform's. Names are the environment variables', lower-case."""

    model_config = ConfigDict(extra="forbid")

    system_prompt: str | None = Field(default=None, min_length=1, max_length=20_000)
    ai_disclosure_text: str | None = Field(default=None, max_length=2000)
    ai_disclaimer_text: str | None = Field(default=None, max_length=2000)
    consent_required: bool | None = None
    consent_keyword: str | None = Field(default=None, min_length=1, max_length=40)
    optout_keyword: str | None = Field(default=None, min_length=1, max_length=40)
    whatsapp_templates: str | None = None  # JSON, as WHATSAPP_TEMPLATES
    rate_limit_per_minute: int | None = Field(default=None, ge=1)
    max_message_chars: int | None = Field(default=None, ge=1)
    retention_days: int | None = Field(default=None, ge=1)
    identity_policy: IdentityPolicy | None = None
    history_messages: int | None = Field(default=None, ge=0, le=500)
    session_timeout_minutes: float | None = Field(default=None, gt=0)
    link_notice_text: str | None = None
    rate_limit_notice_text: str | None = None
    too_long_notice_text: str | None = None
    non_text_notice_text: str | None = None
    apology_text: str | None = None
    ai_vision_enabled: bool | None = None  # photos to AI_VISION_MODEL (only where it is set)
    media_received_text: str | None = Field(default=None, min_length=1, max_length=2000)
    audio_received_text: str | None = Field(default=None, min_length=1, max_length=2000)
    audio_failed_text: str | None = Field(default=None, min_length=1, max_length=2000)
    media_too_large_text: str | None = Field(default=None, min_length=1, max_length=2000)
    media_refused_text: str | None = Field(default=None, min_length=1, max_length=2000)
    media_mismatch_text: str | None = Field(default=None, min_length=1, max_length=2000)
    media_unavailable_text: str | None = Field(default=None, min_length=1, max_length=2000)
    smtp_subject: str | None = Field(default=None, min_length=1, max_length=200)
    kb_strict: bool | None = None
    kb_passages: int | None = Field(default=None, ge=1, le=20)
    kb_decline_text: str | None = Field(default=None, min_length=1, max_length=2000)
    review_mode: ReviewMode | None = None
    review_ack_text: str | None = Field(default=None, min_length=1, max_length=2000)
    review_reject_text: str | None = Field(default=None, min_length=1, max_length=2000)
    review_sla_minutes: float | None = Field(default=None, gt=0)
    urgent_holding_text: str | None = Field(default=None, min_length=1, max_length=2000)
    takeover_idle_minutes: float | None = Field(default=None, gt=0)
    urgent_notify_emails: tuple[str, ...] | None = None
    sla_seconds: float | None = Field(default=None, gt=0)
    # Each firm publishes its own Flow (in its own WhatsApp Business Account).
    intake_flow_id: str | None = Field(default=None, pattern=r"^[0-9A-Za-z_-]{1,64}$")
    intake_keyword: str | None = Field(default=None, min_length=1, max_length=40)
    intake_flow_screen: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z_]{0,63}$")
    intake_flow_cta: str | None = Field(default=None, min_length=1, max_length=MAX_CTA_CHARS)
    intake_flow_mode: Literal["published", "draft"] | None = None
    intake_invite_text: str | None = Field(default=None, min_length=1, max_length=MAX_BODY_CHARS)
    intake_confirmation_text: str | None = Field(default=None, min_length=1, max_length=2000)
    intake_problem_text: str | None = Field(default=None, min_length=1, max_length=2000)

    @field_validator("urgent_notify_emails", mode="before")
    @classmethod
    def _split_addresses(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("urgent_notify_emails")
    @classmethod
    def _valid_addresses(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return notify_addresses(value) if value is not None else None

    @field_validator("whatsapp_templates", mode="before")
    @classmethod
    def _templates_as_json(cls, value: Any) -> Any:
        if isinstance(value, list):
            return json.dumps(value)
        return value


TENANT_SETTINGS = tuple(TenantOverrides.model_fields)


def check_tenant_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The overrides as stored (only those given, unset ones dropped), or ValueError naming
    every bad one in one readable line."""
    try:
        checked = TenantOverrides.model_validate(dict(overrides))
    except ValidationError as exc:
        raise ValueError(_readable(exc)) from exc
    values = checked.model_dump(mode="json", exclude_unset=True)
    templates = values.get("whatsapp_templates")
    if templates is not None:
        try:
            items = json.loads(templates)
            if not isinstance(items, list):
                raise TemplateError("must be a JSON list")
            TemplateSet.parse(items)
        except (ValueError, TemplateError) as exc:
            raise ValueError(f"WHATSAPP_TEMPLATES: {exc}") from exc
    return values


def tenant_settings(platform: Settings, overrides: Mapping[str, Any]) -> Settings:
    """The platform's settings with a tenant's overrides on top. A tenant's own prompt or
    templates win over the platform's files too."""
    values = {k: v for k, v in check_tenant_overrides(overrides).items() if v is not None}
    if "system_prompt" in values:
        values["system_prompt_file"] = None
    if "whatsapp_templates" in values:
        values["whatsapp_templates_file"] = None
    if "identity_policy" in values:
        values["identity_policy"] = IdentityPolicy(values["identity_policy"])
    if "review_mode" in values:
        values["review_mode"] = ReviewMode(values["review_mode"])
    return platform.model_copy(update=values)


# One plain address (no display name, no list): what a mail's envelope takes as it is.
_ADDRESS = re.compile(r"[^@\s,;<>\"'()\[\]]+@[^@\s,;<>\"'()\[\]]+\.[^@\s,;<>\"'()\[\]]+")
_PUBLIC_URL = re.compile(r"https?://[^\s/?#]+(/[^\s?#]*)?")


def notify_addresses(value: tuple[str, ...]) -> tuple[str, ...]:
    """URGENT_NOTIFY_EMAILS: each a plain e-mail address, each once."""
    for address in value:
        if not _ADDRESS.fullmatch(address):
            raise ValueError(f"{address!r} is not an e-mail address")
    return tuple(dict.fromkeys(value))


def check_plugin(spec: str) -> Callable[..., Any]:
    """The callable a `package.module:callable` names; ValueError saying what is wrong."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"{spec!r} must be 'package.module:callable'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import {module_name!r} ({exc})") from exc
    plugin: Any = getattr(module, attribute, None)
    if not callable(plugin):
        raise ValueError(f"{module_name!r} has no callable {attribute!r}")
    return plugin  # type: ignore[no-any-return]


def _present(value: SecretStr | str | None) -> bool:
    if value is None:
        return False
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    return bool(raw.strip())


def load_settings(**overrides: Any) -> Settings:
    """Parse settings, turning pydantic's report into one readable ConfigurationError."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigurationError("invalid configuration: " + _readable(exc)) from exc


def _readable(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]).upper()
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"{where}: {message}" if where else message)
    return "; ".join(lines)
