"""The tenant administration blueprint: every page of it needs ``tenant.admin``."""

from flask import Blueprint

from portal.permissions import guard

bp = Blueprint("admin", __name__, url_prefix="/<tenant>/admin")
guard(bp, "tenant.admin")
