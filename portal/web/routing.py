"""URL processors that bind each request to the tenant named by its prefix."""

from flask import abort, g, request
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


def tenant_named(slug: str) -> Tenant | None:
    if not SLUG_PATTERN.match(slug):
        return None
    return db.session.scalar(db.select(Tenant).where(Tenant.slug == slug))


def bind_tenant_from_url(endpoint, values) -> None:
    if endpoint is None and request.routing_exception is not None:
        # No page at this address (a 404 or 405 follows). If it still starts with a
        # tenant's prefix, bind that tenant all the same: the gate then checks the
        # session as for any page, and the error page keeps the signed-in user's
        # navigation and the tenant's layout.
        tenant = tenant_named(request.path.strip("/").split("/", 1)[0])
        if tenant is not None:
            bind_request(tenant)
        return
    if not values or "tenant" not in values:
        return
    tenant = tenant_named(values.pop("tenant"))
    if tenant is None:
        abort(404)
    bind_request(tenant)


def bind_request(tenant: Tenant) -> None:
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
