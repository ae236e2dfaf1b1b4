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
        default=1.0, gt=0, description="How often a server picks up bank changes made elsewhere."
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
        "the police contact (see docs/cases.md).")
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
        "closed_cases=730,assessed_triage=365,notice_attempts=365'; types not named are "
        "kept. Applied by `safeguard retention purge`; cases under legal hold are kept.")
    totp_required_roles: str = Field(
        default="admin", description="Roles that must use two-step sign-in (TOTP), "
        "comma-separated.")


@lru_cache
def get_settings() -> Settings:
    return Settings()
