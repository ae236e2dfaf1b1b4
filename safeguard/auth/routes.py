"""API: who am I, users, API tokens. Thin: parse, call the service, shape the answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from safeguard.audit.service import Actor
from safeguard.auth import service
from safeguard.auth.models import User
from safeguard.auth.schemas import Me, TokenCreate, TokenIssued, TokenOut, UserCreate, UserOut
from safeguard.errors import NotFoundError
from safeguard.web.deps import DbSession, EntityId, require_scope

router = APIRouter(prefix="/v1", tags=["auth"])
Admin = Annotated[Actor, Depends(require_scope("admin"))]
AnyMatcher = Annotated[Actor, Depends(require_scope("match"))]


@router.get("/me", response_model=Me, summary="Who the caller is and what it may do")
def me(actor: AnyMatcher) -> Me:
    return Me(kind=actor.kind, name=actor.name, scopes=sorted(actor.scopes))


@router.get("/users", response_model=list[UserOut], summary="List console users")
def list_users(actor: Admin, session: DbSession) -> list[User]:
    return service.list_users(session)


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED,
             summary="Create a console user")
def create_user(body: UserCreate, actor: Admin, session: DbSession) -> User:
    return service.create_user(session, actor, body.username, body.password, body.role,
                               body.display_name)


@router.get("/tokens", response_model=list[TokenOut], summary="List API tokens (never secrets)")
def list_tokens(actor: Admin, session: DbSession) -> list[object]:
    return list(service.list_tokens(session))


@router.post("/tokens", response_model=TokenIssued, status_code=status.HTTP_201_CREATED,
             summary="Issue an API token; the secret is shown once")
def create_token(body: TokenCreate, actor: Admin, session: DbSession) -> TokenIssued:
    if actor.user_id is None:
        raise NotFoundError("this caller has no user to own a token")
    owner = session.get(User, actor.user_id)
    if owner is None:
        raise NotFoundError("the calling user no longer exists")
    issued = service.create_token(session, actor, owner, body.name, [s.value for s in body.scopes])
    return TokenIssued(**TokenOut.model_validate(issued.token).model_dump(), secret=issued.secret)


@router.delete("/tokens/{token_id}", response_model=TokenOut, summary="Revoke an API token")
def revoke_token(token_id: EntityId, actor: Admin, session: DbSession) -> object:
    return service.revoke_token(session, actor, token_id)
