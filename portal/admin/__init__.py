"""Tenant administration, one module per area: the users (staff and client access),
the tenant's settings and branches, its roles, and its audit log. Importing the
package registers every page on ``bp``."""

from portal.admin import audit, roles, settings, users  # noqa: F401 - their pages join bp
from portal.admin.blueprint import bp

__all__ = ["bp"]
