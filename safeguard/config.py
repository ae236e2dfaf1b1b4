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
    secret_key: str = Field(
        default="",
        description="Signs session cookies and CSRF tokens. Empty: a random key is made and "
        "kept in data_dir/secret.key.",
    )
    allow_file_upload: bool = Field(
        default=True,
        description="POST /v1/match/file hashes uploads in memory. Switch off where the operator "
        "has no legal remit to receive media.",
    )
    max_upload_bytes: int = Field(default=25 * 1024 * 1024, ge=1)
    max_image_pixels: int = Field(default=50_000_000, ge=1)
    max_batch_hashes: int = Field(default=1000, ge=1)
    default_pdq_threshold: int = Field(default=31, ge=0, le=31)
    min_pdq_quality: int = Field(default=50, ge=0, le=100)
    index_refresh_seconds: float = Field(
        default=1.0, gt=0, description="How often a server picks up bank changes made elsewhere."
    )
    webhook_max_attempts: int = Field(default=6, ge=1)
    webhook_timeout_seconds: float = Field(default=5.0, gt=0)
    session_max_age_seconds: int = Field(default=8 * 3600, ge=60)
    cookie_secure: bool = Field(default=False, description="Set on behind HTTPS.")
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_seconds: int = Field(default=900, ge=1)

    def resolved_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if path.exists():
            return path.read_text().strip()
        import secrets

        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
