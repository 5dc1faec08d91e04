"""The one gate every request passes: tenant of the session, permission, network.

Every endpoint's permission comes from its blueprint (``guard``) or its own
``@permission``, or the endpoint is ``@public``; one that declares nothing is
refused (fail closed).
"""

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from portal.extensions import client_address, db
from portal.i18n import gettext as _
from portal.permissions import is_public, is_sensitive, required_permission
from portal.services import auth
from portal.services.actor import Actor
from portal.tenancy import ClientVisibility, bind, restrict_clients
from portal.web.forms.reauthenticate import ReauthenticateForm
from portal.web.sessions import SESSION_TENANT, current_session_id, recently_verified, sign_out


def refuse_nul_characters():
    """No database stores a NUL character (PostgreSQL refuses it): say so, never a 500."""
    submitted = [*request.args.items(multi=True), *request.form.items(multi=True)]
    if any("\x00" in key or "\x00" in value for key, value in submitted):
        abort(400, _("The request contains a character that is not allowed (NUL)."))


def check_access():
    if request.endpoint == "static":
        return None
    if "tenant" in g and SESSION_TENANT in session and session[SESSION_TENANT] != g.tenant.id:
        g.pop("tenant")  # the 404 page must not even name the other tenant
        bind(db.session, None)
        abort(404)

    g.actor = Actor(
        tenant=g.get("tenant"),
        user=current_user._get_current_object() if current_user.is_authenticated else None,
        address=client_address(),
        session_id=current_session_id(),
    )
    if current_user.is_authenticated:
        refusal = refuse_outside_network(current_actor())
        if refusal is not None:
            return refusal
        restrict_clients(db.session, ClientVisibility.of(current_user))

    if request.endpoint is None:
        return None  # no page at this address: its 404 or 405 follows
    view = current_app.view_functions[request.endpoint]
    if is_public(view):
        return None
    needed = required_permission(current_app, request.endpoint)
    if needed is None:
        current_app.logger.error("endpoint %s declares no permission", request.endpoint)
        abort(403)
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not current_user.can(needed):
        abort(403)
    if current_user.must_enrol and request.endpoint not in WHILE_ENROLLING:
        flash(_("Your role asks for two-factor sign-in: turn it on to go on."), "info")
        return redirect(url_for("auth.two_factor_setup"))
    if (
        request.method == "POST"
        and is_sensitive(view)
        and not recently_verified(current_app.config["REAUTH_AFTER"])
    ):
        return ask_again()
    return None


def ask_again():
    """The password again before a sensitive action: the page keeps what the form sent
    (as hidden fields, never in a cookie) and, once the password is given, offers to
    send it on to where it was going."""
    kept = [
        (name, value)
        for name, value in request.form.items(multi=True)
        if name != "csrf_token" and not name.endswith("csrf_token")
    ]
    return (
        render_template(
            "auth/reauthenticate.html",
            action=request.full_path.rstrip("?"),
            kept=kept,
            had_files=any(file.filename for file in request.files.values()),
            form=ReauthenticateForm(),
        ),
        401,
    )


#: What a user whose role asks for a second factor may open before they have one.
WHILE_ENROLLING = frozenset({"auth.two_factor_setup", "auth.passkey_new", "auth.logout"})


def current_actor() -> Actor:
    """Who acts in this request, as the gate found them: what views pass to services."""
    return g.actor


def refuse_outside_network(actor: Actor):
    """End the session of a user whose network limit refuses this request's address (the
    refusal recorded), and say why; None when the address is allowed."""
    try:
        auth.check_network(actor.user, actor=actor)
    except auth.NetworkRefused as refusal:
        sign_out()
        return (
            render_template(
                "errors/network.html",
                address=refusal.address,
                allowed_network=refusal.allowed_network,
            ),
            403,
        )
    return None


def unauthorized():
    """Where Flask-Login sends an anonymous visitor of a protected page."""
    if "tenant" not in g:
        abort(404)
    flash(_("Please sign in to see this page."), "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def add_security_headers(response):
    headers = response.headers
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config.get("HSTS"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if current_user and current_user.is_authenticated:
        headers.setdefault("Cache-Control", "no-store")
    return response
