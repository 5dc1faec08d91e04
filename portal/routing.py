"""URL processors that bind each request to the tenant named by its prefix."""

from flask import abort, g
from werkzeug.routing import IntegerConverter

from portal.extensions import db
from portal.models import Tenant
from portal.services.tenants import SLUG_PATTERN
from portal.tenancy import bind

#: Largest id the database columns hold; larger numbers are simply not found.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """A positive database id; anything else (or too large) is a 404, not a 500."""

    def __init__(self, map, **kwargs):  # noqa: A002 - werkzeug's signature
        super().__init__(map, min=1, max=MAX_ID, **kwargs)


def bind_tenant_from_url(endpoint, values) -> None:
    if not values or "tenant" not in values:
        return
    slug = values.pop("tenant")
    tenant = (
        db.session.scalar(db.select(Tenant).where(Tenant.slug == slug))
        if SLUG_PATTERN.match(slug)
        else None
    )
    if tenant is None:
        abort(404)
    g.tenant = tenant
    #: As text: a URL built after the request commits must not read the tenant again.
    g.tenant_slug = tenant.slug
    bind(db.session, tenant.id)


def add_tenant_to_urls(endpoint, values) -> None:
    if "tenant" in values or "tenant" not in g:
        return
    from flask import current_app

    if current_app.url_map.is_endpoint_expecting(endpoint, "tenant"):
        values["tenant"] = g.get("tenant_slug") or g.tenant.slug
