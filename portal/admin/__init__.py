"""Tenant administration, one module per area: the users (staff and client access),
the tenant's settings and branches, its roles, and its audit log. Importing the
package registers every page on ``bp``."""

from portal.admin import (  # noqa: F401 - their pages join bp
    audit,
    roles,
    settings,
    two_factor,
    users,
)
from portal.admin.blueprint import bp

__all__ = ["bp"]
