"""Loaders that several blueprints share: the object a URL names, or 404.

The tenancy hook scopes every query, so a client out of the user's sight is simply not
found: the answer is the same 404 as for an id that does not exist.
"""

from portal.extensions import db
from portal.models import Client


def get_client(client_id: int) -> Client:
    """The client if this user may see it (scoping is automatic), else 404."""
    return db.get_or_404(Client, client_id)
