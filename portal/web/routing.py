"""URL processors that bind each request to the tenant named by its prefix."""

from flask import abort, current_app, g, request
from werkzeug.routing import IntegerConverter

from portal.extensions import db
from portal.models import Tenant
from portal.services.tenants import SLUG_PATTERN
from portal.tenancy import bind
from portal.web.sessions import live_session

#: Largest id the database columns hold; larger numbers are simply not found.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """A positive database id; anything else (or too large) is a 404, not a 500."""

    def __init__(self, map, **kwargs):  # noqa: A002 - werkzeug's signature
        super().__init__(map, min=1, max=MAX_ID, **kwargs)


#: Where each app keeps the ids of the tenants its requests named, by slug.
TENANT_IDS = "portal.tenant_ids"


def tenant_named(slug: str) -> Tenant | None:
    """The tenant the URL names, bound to the request's session.

    Its id comes from a per-process map (only tenants found go in, so it is as large as
    the tenant table at most), and its row with the signed-in browser's session, in the
    session's statement: a signed-in request reads no tenant of its own. The row found
    is checked against the slug, so an id the map remembers wrongly (a database
    recreated under a running process, as the tests do) is looked up again."""
    if not SLUG_PATTERN.match(slug):
        return None
    known = current_app.extensions.setdefault(TENANT_IDS, {})
    tenant_id = known.get(slug)
    if tenant_id is not None:
        tenant = bound_tenant(tenant_id)
        if tenant is not None and tenant.slug == slug:
            return tenant
        del known[slug]
    tenant_id = db.session.scalar(db.select(Tenant.id).where(Tenant.slug == slug))
    if tenant_id is None:
        bind(db.session, None)
        return None
    known[slug] = tenant_id
    return bound_tenant(tenant_id)


def bound_tenant(tenant_id: int) -> Tenant | None:
    """Bind the session to ``tenant_id``; its row, from the live session when the
    browser has one in it (no statement), else by its id."""
    bind(db.session, tenant_id)
    live = live_session(tenant_id)
    return live.tenant if live is not None else db.session.get(Tenant, tenant_id)


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


def add_tenant_to_urls(endpoint, values) -> None:
    if "tenant" in values or "tenant" not in g:
        return
    if current_app.url_map.is_endpoint_expecting(endpoint, "tenant"):
        values["tenant"] = g.get("tenant_slug") or g.tenant.slug
