"""Who acts: the one value every operation that changes something is given.

The gate builds it once per request (``portal.web.gate``); views hand it on as it is;
the command line builds one for its tenant. A service reads who acts, and from where,
from this value alone: never from ``flask.g``, ``request`` or ``current_user``.
"""

from dataclasses import dataclass, replace

from portal.models import Tenant, User


@dataclass(frozen=True)
class Actor:
    #: The tenant the request is for; None only on the pages that name no tenant.
    tenant: Tenant | None
    #: The signed-in user; None for a visitor (signing in, a mailed link, the command line).
    user: User | None = None
    #: The address the request came from, as the trusted proxies report it.
    address: str | None = None
    #: The signed-in browser's server-side session.
    session_id: int | None = None

    def signed_in_as(self, user: User) -> "Actor":
        """The same request, acting as ``user`` (who has just proved who they are)."""
        return replace(self, user=user)
