"""Server-side sign-in sessions: started, checked, ended."""

import secrets
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Select, String, bindparam, select, update
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models import Role, User, UserSession
from portal.models.base import utcnow
from portal.models.user import hash_session_token
from portal.services import audit
from portal.services.actor import Actor

#: How stale last_seen_at may get before a request refreshes it (saves a write per request).
TOUCH_INTERVAL = timedelta(minutes=1)


def start(
    user: User, ip_address: str | None, user_agent: str | None, method: str = "password"
) -> str:
    """Open a session for ``user`` and return the token for the cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            user_id=user.id,
            tenant_id=user.tenant_id,
            token_hash=hash_session_token(token),
            ip_address=ip_address,
            user_agent=(user_agent or "")[:255] or None,
            method=method,
            verified_at=utcnow(),
        )
    )
    user.last_login_at = utcnow()
    db.session.flush()
    return token


def find_live(
    token: str, idle_timeout: timedelta, absolute_timeout: timedelta, now: datetime | None = None
) -> UserSession | None:
    """The open session for ``token``, or None (unknown, ended, or timed out — then ended)."""
    user_session = (
        db.session.execute(_live_statement(), {"token_hash": hash_session_token(token)})
        .unique()
        .scalar_one_or_none()
    )
    if user_session is None:
        return None
    now = now or utcnow()
    if (
        now - user_session.last_seen_at > idle_timeout
        or now - user_session.created_at > absolute_timeout
    ):
        user_session.ended_at = now
        return None
    if now - user_session.last_seen_at > TOUCH_INTERVAL:
        user_session.last_seen_at = now
    return user_session


@cache
def _live_statement() -> Select:
    """``find_live``'s statement, built once for any token (``token_hash``): every
    signed-in request runs it. The user, role and role's permissions come with it: every
    page asks for them; a client user's company, which every page of theirs reads (its
    language, at least); and the tenant, which every page draws."""
    signed_in = joinedload(UserSession.user)
    return (
        select(UserSession)
        .options(
            signed_in.joinedload(User.role).joinedload(Role.grants),
            signed_in.joinedload(User.client),
            joinedload(UserSession.tenant),
        )
        .where(
            UserSession.token_hash == bindparam("token_hash", type_=String),
            UserSession.ended_at.is_(None),
        )
    )


def end(token: str) -> None:
    db.session.execute(
        update(UserSession)
        .where(UserSession.token_hash == hash_session_token(token), UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def end_all(user: User) -> None:
    """End every open session of ``user`` (password change, disabling)."""
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def open_sessions(user: User, idle_timeout: timedelta, absolute_timeout: timedelta) -> list:
    """The user's sessions that are still alive, most recently used first."""
    now = utcnow()
    return db.session.scalars(
        select(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.ended_at.is_(None),
            UserSession.last_seen_at > now - idle_timeout,
            UserSession.created_at > now - absolute_timeout,
        )
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ).all()


def end_one(session_id: int, *, actor: Actor) -> bool:
    """End one of ``actor.user``'s own sessions (recorded); False when it is not theirs
    or already over."""
    user = actor.user
    ended = db.session.execute(
        update(UserSession)
        .where(
            UserSession.id == session_id,
            UserSession.user_id == user.id,
            UserSession.ended_at.is_(None),
        )
        .values(ended_at=utcnow())
    )
    if ended.rowcount != 1:
        return False
    audit.record("auth.session_ended", actor=actor, client_id=user.client_id, session_id=session_id)
    return True


def end_others(*, actor: Actor) -> int:
    """End every session of ``actor.user`` but the one this request comes with (recorded);
    how many were ended."""
    user = actor.user
    ended = db.session.execute(
        update(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.ended_at.is_(None),
            UserSession.id != actor.session_id,
        )
        .values(ended_at=utcnow())
    )
    audit.record("auth.sessions_ended", actor=actor, client_id=user.client_id, count=ended.rowcount)
    return ended.rowcount


def verified(session_id: int) -> None:
    """The session's user has just given their password or a code again."""
    db.session.execute(
        update(UserSession).where(UserSession.id == session_id).values(verified_at=utcnow())
    )
