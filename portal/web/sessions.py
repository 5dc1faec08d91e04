"""Flask-Login's view of our server-side sessions."""

from flask import current_app, g, session
from flask_login import login_user, logout_user

from portal.extensions import client_address
from portal.models import User, UserSession
from portal.models.base import utcnow
from portal.services import sessions

SESSION_TOKEN = "sid"  # noqa: S105 - the cookie key, not a secret
SESSION_TENANT = "tenant_id"


def live_session(tenant_id: int) -> UserSession | None:
    """The browser's live server-side session in tenant ``tenant_id``, with its user and
    the tenant: found once per request, when the URL names the tenant (routing), and
    read again by Flask-Login's ``load_user``."""
    if g.get("live_session_tenant_id") != tenant_id:
        token = session.get(SESSION_TOKEN)
        g.live_session_tenant_id = tenant_id
        g.live_session = (
            sessions.find_live(
                token,
                current_app.config["SESSION_IDLE_TIMEOUT"],
                current_app.config["SESSION_ABSOLUTE_TIMEOUT"],
            )
            if token and session.get(SESSION_TENANT) == tenant_id
            else None
        )
    return g.live_session


def load_user(user_id: str) -> User | None:
    """Return the signed-in user only while its server-side session is alive."""
    if "tenant" not in g:
        return None
    live = live_session(g.tenant.id)
    if live is None or str(live.user_id) != user_id or not live.user.is_active:
        return None
    g.user_session_id = live.id
    g.user_session_verified_at = live.verified_at
    return live.user


def current_session_id() -> int | None:
    """The id of the signed-in browser's server-side session."""
    return g.get("user_session_id")


def recently_verified(within) -> bool:
    """Whether the user gave their password or a code in this session within ``within``."""
    verified_at = g.get("user_session_verified_at")
    return verified_at is not None and utcnow() - verified_at <= within


def sign_in(user: User, user_agent: str | None, method: str = "password") -> None:
    """Rotate the session: a fresh cookie and a fresh server-side session, which notes
    how the user proved who they are (``method``)."""
    previous = session.get(SESSION_TOKEN)
    if previous:
        sessions.end(previous)
    session.clear()
    token = sessions.start(user, client_address(), user_agent, method)
    session[SESSION_TOKEN] = token
    session[SESSION_TENANT] = user.tenant_id
    login_user(user)


def sign_out() -> None:
    token = session.get(SESSION_TOKEN)
    if token:
        sessions.end(token)
    logout_user()
    session.clear()
