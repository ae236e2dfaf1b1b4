from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from safeguard.auth.models import Role, Scope


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    display_name: str
    role: Role
    disabled: bool
    created_at: datetime


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    password: str = Field(min_length=12, max_length=1024)
    role: Role
    display_name: str = Field(default="", max_length=128)


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=128, examples=["platform-x uploads"])
    scopes: list[Scope] = Field(min_length=1, examples=[["match"]])


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenIssued(TokenOut):
    secret: str = Field(description="The token. Shown only in this response; store it now.")


class Me(BaseModel):
    kind: str
    name: str
    scopes: list[str]
