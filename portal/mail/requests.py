"""The mails of a support request (seed 001), each in its recipient's language and with
the request's reference in its subject:

- to the customer: the acknowledgement (the priority, its meaning and the expected
  delay), every public reply, the resolution ("the fix is available"), a refusal, an
  improvement accepted for everyone, a quote;
- to the desk: a new request, and every answer of the customer (to the assignee, or to
  the support desk's address while nobody is assigned).

Internal notes are never mailed: no function here takes one.
"""

from flask_babel.speaklater import LazyString

from portal.i18n import lazy_gettext as _l
from portal.mail import outbox
from portal.models import RequestMessage, SupportRequest, Tenant, User, UserStatus
from portal.models.request import Priority
from portal.services import languages
from portal.services.actor import Actor
from portal.services.links import portal_url

#: What the customer is told, by event: the subject after the reference.
CUSTOMER_SUBJECTS = {
    "acknowledged": _l("We have taken your request into account"),
    "reply": _l("New reply to your request"),
    "resolved": _l("Your request is resolved"),
    "turned_down": _l("Your request is closed"),
    "accepted": _l("Your improvement will be added for everyone"),
    "quoted": _l("A quote for your improvement"),
}


def expected_delay(priority: Priority, tenant: Tenant) -> str | LazyString:
    """The delay the tenant announces for ``priority`` (seed 001's by default, lazily
    translated: a mail says it in its recipient's language, not the sender's)."""
    return getattr(tenant, f"delay_{priority.value}") or DEFAULT_DELAYS[priority]


DEFAULT_DELAYS = {
    Priority.FLASH: _l(
        "As soon as possible: from within the hour to three weeks, always in the next version."
    ),
    Priority.HIGH: _l("Normally in the next version; on average within the next 3 or 4 versions."),
    Priority.NORMAL: _l("In a later version, once the high priorities are done."),
    Priority.LOW: _l("In a later version, once the normal priorities are done."),
}


def _subject(request: SupportRequest, text) -> str:
    return f"[{request.reference}] {text} – {request.subject}"


def tell_customer(
    request: SupportRequest, event: str, *, tenant: Tenant, message: RequestMessage | None = None
) -> bool:
    """Mail the customer what happened to their request; False when no address is known."""
    contact = request.contact
    address = contact.email if contact and contact.archived_at is None else None
    address = address or request.client.email
    if not address:
        return False
    user = contact.user if contact is not None else None
    outbox.queue_from_templates(
        tenant,
        kind=f"request_{event}",
        to=address,
        subject=_subject(request, CUSTOMER_SUBJECTS[event]),
        template="request_customer",
        locale=languages.locale_for(tenant, user=user, client=request.client),
        support=True,
        event=event,
        request=request,
        message=message,
        delay=expected_delay(request.priority, tenant) if request.priority else None,
        link=portal_url("requests.show", tenant=tenant.slug, request_id=request.id),
    )
    return True


def tell_desk(request: SupportRequest, *, actor: Actor, new: bool) -> bool:
    """Mail the assignee (or the desk's address) a new request or the customer's answer."""
    tenant = actor.tenant
    assignee: User | None = request.assignee
    if assignee is not None and assignee.status is UserStatus.ACTIVE and assignee.email:
        address, locale = assignee.email, languages.locale_for(tenant, user=assignee)
    else:
        address = tenant.support_sender_email
        locale = languages.locale_for(tenant)
    if not address:
        return False
    outbox.queue_from_templates(
        tenant,
        kind="request_new" if new else "request_answered",
        to=address,
        subject=_subject(
            request,
            (
                _l("Blocking malfunction at %(client)s", client=request.client.name)
                if request.blocking
                else _l("New request from %(client)s", client=request.client.name)
            )
            if new
            else _l("%(client)s answered", client=request.client.name),
        ),
        template="request_desk",
        locale=locale,
        new=new,
        request=request,
        link=portal_url("desk.show", tenant=tenant.slug, request_id=request.id),
    )
    return True
