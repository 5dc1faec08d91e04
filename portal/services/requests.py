"""Support requests (seed 001) as whole operations: open, answer, note, triage, quote,
close. Each checks, writes, audits and queues its mails (``portal.mail.requests``) in
the caller's transaction; a refusal (``RequestRefused``) comes before any write."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.mail import requests as mails
from portal.models import (
    Client,
    Contact,
    Priority,
    QuoteState,
    RequestCounter,
    RequestKind,
    RequestMessage,
    RequestState,
    SupportRequest,
    User,
)
from portal.models.base import utcnow
from portal.models.request import FINISHED, UNRANKED
from portal.services import attachments, audit
from portal.services.actor import Actor
from portal.services.refusal import Refusal
from portal.tenancy import bound_tenant_id

#: Longest description or message, in characters.
MAX_TEXT = 20_000

#: The states the desk may move a request to from each state. Refused and duplicate
#: have their own operation (they need a reason); closing is the customer's or follows
#: a resolution.
MOVES = {
    RequestState.NEW: {RequestState.ACKNOWLEDGED, RequestState.IN_PROGRESS},
    RequestState.ACKNOWLEDGED: {
        RequestState.IN_PROGRESS,
        RequestState.WAITING,
        RequestState.RESOLVED,
    },
    RequestState.IN_PROGRESS: {RequestState.WAITING, RequestState.RESOLVED},
    RequestState.WAITING: {RequestState.IN_PROGRESS, RequestState.RESOLVED},
    RequestState.RESOLVED: {RequestState.IN_PROGRESS, RequestState.CLOSED},
    RequestState.CLOSED: set(),
    RequestState.REFUSED: set(),
    RequestState.DUPLICATE: set(),
}


class RequestRefused(Refusal):
    """The operation is not possible on this request now; the message says why."""


@dataclass(frozen=True)
class NewRequest:
    """What someone asks, as a form gives it."""

    kind: RequestKind
    subject: str
    description: str
    remote_access_id: str | None = None
    #: A malfunction that stops the customer's work.
    blocking: bool = False


#: A reference as customers quote it: R-2026-00042 (leading zeros optional).
REFERENCE = re.compile(r"R-(\d{4})-(\d{1,6})")


def by_reference(text: str | None):
    """The criterion of the request ``text`` names by its reference, or None."""
    found = REFERENCE.fullmatch((text or "").strip().upper())
    if not found:
        return None
    return (SupportRequest.year == int(found[1])) & (SupportRequest.number == int(found[2]))


def matching(query: str, *, client_names: bool = False):
    """The criterion of a search: a reference, or words of the subject (and of the
    client's name, for the desk). Internal notes are never searched."""
    reference = by_reference(query)
    if reference is not None:
        return reference
    pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    found = [SupportRequest.subject.ilike(pattern, escape="\\")]
    if client_names:
        found.append(
            SupportRequest.client_id.in_(
                select(Client.id).where(Client.name.ilike(pattern, escape="\\"))
            )
        )
    return or_(*found)


def next_number(year: int) -> int:
    """The bound tenant's next reference number for ``year``, taken atomically: two
    requests opened at once never get the same one, on either database."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(RequestCounter)
        .values(tenant_id=bound_tenant_id(db.session), year=year, last_number=1)
        .on_conflict_do_update(
            index_elements=["tenant_id", "year"],
            set_={"last_number": RequestCounter.last_number + 1},
        )
        .returning(RequestCounter.last_number)
    )
    return db.session.execute(statement).scalar_one()


def open_request(
    client: Client,
    asked: NewRequest,
    *,
    contact: Contact | None,
    actor: Actor,
    files: Sequence[attachments.CheckedFile] = (),
) -> SupportRequest:
    """Open a request for ``client``: by its contact on the portal, or by staff taking
    a call (``contact`` is then who called, if known). The desk is told."""
    now = utcnow()
    user = actor.user
    request = SupportRequest(
        year=now.year,
        number=next_number(now.year),
        kind=asked.kind,
        subject=asked.subject,
        description=asked.description,
        client_id=client.id,
        contact_id=contact.id if contact else None,
        opened_by_id=user.id if user else None,
        branch_id=_branch_of(user, client),
        remote_access_id=asked.remote_access_id,
        blocking=asked.blocking and asked.kind is RequestKind.MALFUNCTION,
        created_at=now,
        updated_at=now,
    )
    request.client = client
    request.contact = contact
    db.session.add(request)
    db.session.flush()
    attachments.attach(request, list(files), message_id=None, internal=False)
    audit.record(
        "request.opened",
        actor=actor,
        client_id=client.id,
        request=request.reference,
        kind=asked.kind.value,
    )
    mails.tell_desk(request, actor=actor, new=True)
    return request


def _branch_of(user: User | None, client: Client) -> int | None:
    """A client user limited to a branch files their requests under it; otherwise the
    client's branch, so that branch-limited staff see their clients' requests."""
    if user is not None and user.is_client and user.branch_id is not None:
        return user.branch_id
    return client.branch_id


def reply(
    request: SupportRequest,
    body: str,
    *,
    actor: Actor,
    internal: bool = False,
    files: Sequence[attachments.CheckedFile] = (),
) -> RequestMessage:
    """Add a message to the conversation: a public reply (mailed to the other side) or,
    from staff, an internal note (mailed to nobody, shown to staff only)."""
    user = actor.user
    if internal and (user is None or user.is_client):
        raise RequestRefused(_l("Only staff write internal notes."))
    if user is not None and user.is_client and request.state in FINISHED - {RequestState.RESOLVED}:
        raise RequestRefused(_l("This request is finished: open a new one."))
    message = RequestMessage(
        request_id=request.id,
        client_id=request.client_id,
        author_id=user.id if user else None,
        internal=internal,
        body=body,
    )
    message.author = user
    db.session.add(message)
    if not internal:
        request.updated_at = utcnow()
        customer_answered = user is not None and user.is_client
        if customer_answered and request.state in (RequestState.WAITING, RequestState.RESOLVED):
            request.state = RequestState.IN_PROGRESS  # the desk has work again
    db.session.flush()
    attachments.attach(request, list(files), message_id=message.id, internal=internal)
    audit.record(
        "request.noted" if internal else "request.replied",
        actor=actor,
        client_id=request.client_id,
        request=request.reference,
    )
    if not internal:
        if user is not None and user.is_client:
            mails.tell_desk(request, actor=actor, new=False)
        else:
            mails.tell_customer(request, "reply", tenant=actor.tenant, message=message)
    return message


def _move(request: SupportRequest, state: RequestState, *, actor: Actor, **details) -> None:
    before = request.state
    request.state = state
    request.updated_at = utcnow()
    audit.record(
        "request.state_changed",
        actor=actor,
        client_id=request.client_id,
        request=request.reference,
        changes={"state": [before.value, state.value]},
        **details,
    )


def acknowledge(
    request: SupportRequest,
    *,
    priority: Priority | None,
    assignee: User | None,
    actor: Actor,
) -> None:
    """Take a new request into account: a malfunction gets its priority (and the
    customer the seed's mail stating it and the expected delay)."""
    if request.state is not RequestState.NEW:
        raise RequestRefused(_l("Only a new request can be acknowledged."))
    if request.kind is RequestKind.MALFUNCTION and priority is None:
        raise RequestRefused(_l("Give the malfunction its priority."))
    if request.kind is not RequestKind.MALFUNCTION:
        priority = None
    request.priority = priority
    request.priority_rank = priority.rank if priority else UNRANKED
    request.acknowledged_at = utcnow()
    if assignee is not None:
        request.assignee_id, request.assignee = assignee.id, assignee
    _move(
        request,
        RequestState.ACKNOWLEDGED,
        actor=actor,
        **({"priority": priority.value} if priority else {}),
    )
    mails.tell_customer(request, "acknowledged", tenant=actor.tenant)


def move(request: SupportRequest, state: RequestState, *, actor: Actor) -> None:
    """Move the request along its life (in progress, waiting, resolved, closed)."""
    if state not in MOVES[request.state]:
        raise RequestRefused(
            _l(
                "A request that is “%(now)s” cannot become “%(then)s”.",
                now=request.state.label,
                then=state.label,
            )
        )
    if state is RequestState.RESOLVED:
        request.resolved_at = utcnow()
    _move(request, state, actor=actor)
    if state is RequestState.RESOLVED:
        mails.tell_customer(request, "resolved", tenant=actor.tenant)


def turn_down(
    request: SupportRequest,
    state: RequestState,
    reason: str,
    *,
    actor: Actor,
    duplicate_of: SupportRequest | None = None,
) -> None:
    """Refuse the request, or call it a duplicate of another, with a reason the customer
    reads (and is mailed)."""
    if state not in (RequestState.REFUSED, RequestState.DUPLICATE):
        raise ValueError(state)
    if request.state in FINISHED:
        raise RequestRefused(_l("This request is finished already."))
    if state is RequestState.DUPLICATE:
        if duplicate_of is None or duplicate_of.id == request.id:
            raise RequestRefused(_l("Give the reference of the request it repeats."))
        request.duplicate_of_id = duplicate_of.id
    request.state_reason = reason
    _move(request, state, actor=actor, reason=reason)
    mails.tell_customer(request, "turned_down", tenant=actor.tenant)


def close(request: SupportRequest, *, actor: Actor) -> None:
    """The customer considers it done (or the desk closes a resolved one)."""
    if request.state in (RequestState.CLOSED, RequestState.REFUSED, RequestState.DUPLICATE):
        raise RequestRefused(_l("This request is finished already."))
    _move(request, RequestState.CLOSED, actor=actor)


def assign(request: SupportRequest, assignee: User | None, *, actor: Actor) -> bool:
    """Put a staff member (or nobody) in charge; return whether it changed."""
    new_id = assignee.id if assignee else None
    if request.assignee_id == new_id:
        return False
    audit.record(
        "request.assigned",
        actor=actor,
        client_id=request.client_id,
        request=request.reference,
        changes={
            "assignee": [
                request.assignee.name if request.assignee else None,
                assignee.name if assignee else None,
            ]
        },
    )
    request.assignee_id, request.assignee = new_id, assignee
    return True


def accept_for_everyone(request: SupportRequest, *, actor: Actor) -> None:
    """An improvement every user will get: added free of charge (seed 001)."""
    _improvement_undecided(request)
    request.accepted_for_everyone = True
    _move(request, RequestState.IN_PROGRESS, actor=actor, decision="for_everyone")
    mails.tell_customer(request, "accepted", tenant=actor.tenant)


def quote(request: SupportRequest, days: Decimal, *, actor: Actor) -> None:
    """An improvement for this customer only: a quote at the tenant's day rate."""
    _improvement_undecided(request)
    tenant = actor.tenant
    request.quote_days = days
    request.quote_amount = (days * tenant.day_rate).quantize(Decimal("0.01"), ROUND_HALF_UP)
    request.quote_currency = request.client.currency or tenant.default_currency
    request.quote_state = QuoteState.PROPOSED
    _move(
        request,
        RequestState.WAITING,
        actor=actor,
        quote_days=str(days),
        quote_amount=str(request.quote_amount),
    )
    mails.tell_customer(request, "quoted", tenant=actor.tenant)


def _improvement_undecided(request: SupportRequest) -> None:
    if request.kind is not RequestKind.IMPROVEMENT:
        raise RequestRefused(_l("Only an improvement is accepted for everyone or quoted."))
    if request.accepted_for_everyone or request.quote_state is not None:
        raise RequestRefused(_l("This improvement has been answered already."))
    if request.state in FINISHED:
        raise RequestRefused(_l("This request is finished already."))


def answer_quote(request: SupportRequest, accepted: bool, *, actor: Actor) -> None:
    """The customer accepts or declines the quote."""
    if request.quote_state is not QuoteState.PROPOSED:
        raise RequestRefused(_l("There is no quote waiting for an answer."))
    request.quote_state = QuoteState.ACCEPTED if accepted else QuoteState.DECLINED
    _move(
        request,
        RequestState.IN_PROGRESS if accepted else RequestState.CLOSED,
        actor=actor,
        quote=request.quote_state.value,
    )
    mails.tell_desk(request, actor=actor, new=False)


def record_time(request: SupportRequest, minutes: int, *, free: bool, at: datetime) -> None:
    """An intervention recorded from the request adds to its time spent."""
    if free:
        request.minutes_free += minutes
    else:
        request.minutes_normal += minutes
    request.updated_at = at
