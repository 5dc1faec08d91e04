"""The permission catalogue, and how a view declares the one it needs.

Permissions are names in code; a role is a named set of them per tenant.
A blueprint declares the permission its views need (``guard``); a view that
needs another says so with ``@permission``; the few public pages say
``@public``. The gate in ``portal.web.gate`` refuses any endpoint left undeclared.
"""

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, Flask

from portal.i18n import lazy_gettext as _l

F = TypeVar("F", bound=Callable)

#: Any signed-in user, staff or client (sign-out, home, own password).
SIGNED_IN = "signed_in"

STAFF_PERMISSIONS = {
    "clients.view": _l("See the clients assigned to you and their contacts."),
    "clients.view_all": _l("See every client of the business, not only assigned ones."),
    "clients.edit": _l("Create and edit clients."),
    "contacts.edit": _l("Create and edit the contacts of a client."),
    "contacts.erase": _l(
        "Erase a contact for good (right to erasure): personal data replaced by a pseudonym."
    ),
    "access.grant": _l("Give a client's contact access to the portal, resend or revoke it."),
    "support.record": _l("Record support interventions against a time credit."),
    "support.override": _l("Record an intervention the credit policy would refuse, with a reason."),
    "credit.purchase": _l("Record a purchase of time credit."),
    "credit.npi": _l("Set or clear the do-not-intervene flag of a credit account."),
    "requests.view": _l(
        "See the support requests of the clients you see, internal notes included."
    ),
    "requests.reply": _l("Answer customers on their support requests and open requests for them."),
    "requests.triage": _l(
        "Acknowledge, prioritise, assign, refuse and resolve support requests; quote improvements."
    ),
    "requests.notes": _l("Write internal notes on support requests, which customers never see."),
    "chat.use": _l("Talk with colleagues in the team chat."),
    "chat.admin": _l("Rename, recolour and archive any chat channel one is a member of."),
    "tenant.admin": _l("Manage settings, branches, staff users and roles."),
}

CLIENT_PERMISSIONS = {
    "portal.self": _l("Keep one's own company data and contact card current."),
    "portal.statement": _l("See the time-credit statement of one's company."),
    "portal.requests": _l("Open support requests for one's company, follow and answer them."),
}

CATALOGUE = {**STAFF_PERMISSIONS, **CLIENT_PERMISSIONS}

#: Permissions of the roles every new tenant starts with (besides the system roles).
DEFAULT_ROLES = {
    "Technician": {
        "clients.view",
        "clients.view_all",
        "support.record",
        "requests.view",
        "requests.reply",
        "requests.triage",
        "requests.notes",
        "chat.use",
    },
    "Sales administration": {
        "clients.view",
        "clients.view_all",
        "clients.edit",
        "contacts.edit",
        "access.grant",
        "credit.purchase",
        "credit.npi",
        "requests.view",
        "requests.reply",
        "chat.use",
    },
    "Staff": {"clients.view", "chat.use"},
}


def _known(name: str) -> str:
    if name != SIGNED_IN and name not in CATALOGUE:
        raise ValueError(f"unknown permission {name!r}")
    return name


def guard(blueprint: Blueprint, name: str) -> Blueprint:
    """Declare the permission every view of ``blueprint`` needs unless it says otherwise."""
    blueprint.required_permission = _known(name)
    return blueprint


def permission(name: str) -> Callable[[F], F]:
    """Declare the permission a view needs; the gate checks it before the view runs."""
    _known(name)

    def decorate(view: F) -> F:
        view.required_permission = name
        return view

    return decorate


def sensitive(view: F) -> F:
    """Declare a view whose form changes what an attacker with a stolen session would
    want (an address, a second factor, someone's access, the tenant's settings): the gate
    asks for the password again unless it was given in the last ``REAUTH_AFTER``."""
    view.is_sensitive = True
    return view


def is_sensitive(view: Callable) -> bool:
    return getattr(view, "is_sensitive", False)


def public(view: F) -> F:
    """Declare a page open to anyone (sign-in, set-password, health, ...)."""
    view.is_public = True
    return view


def required_permission(app: Flask, endpoint: str) -> str | None:
    """The view's own declaration, else its blueprint's; None when neither declares one."""
    own = getattr(app.view_functions[endpoint], "required_permission", None)
    if own is not None:
        return own
    blueprint = app.blueprints.get(endpoint.rpartition(".")[0])
    return getattr(blueprint, "required_permission", None)


def is_public(view: Callable) -> bool:
    return getattr(view, "is_public", False)
