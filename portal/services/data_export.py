"""A client's contact downloads what Portal holds about them (GDPR articles 15 and 20).

One path only: the user asks (``request_export``), the outbox worker or ``flask data
build-exports`` builds (``build_due``), the user downloads (``open_download``), and the
same worker deletes what is older than ``KEEP_FOR`` (``remove_expired``). Each step is
recorded in the audit log.

The ZIP is written entry by entry through the storage's ``writer``: every table is read
in batches of ``BATCH`` rows (keyset pages on the id, so that the worker may commit the
progress between two pages without holding a cursor open), each row written to the
entry as a JSON array item or a CSV line, so the memory used stays flat whatever the
number of rows. The data is read through the normal scoping: the session is bound to
the export's tenant and to the client visibility of its user, exactly as their requests
are, so an export holds only what that user may see in the portal (never internal notes).
"""

import csv
import io
import json
import logging
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, BinaryIO

from flask_babel import force_locale
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.models import (
    AuditEvent,
    Client,
    Contact,
    CreditAccount,
    DataExport,
    ExportState,
    LedgerEntry,
    RequestMessage,
    SupportRequest,
    Tenant,
    User,
    UserSession,
)
from portal.models.base import utcnow
from portal.services import audit, languages
from portal.services.actor import Actor
from portal.services.audit.labels import action_label
from portal.services.refusal import Refusal
from portal.storage import NotStored, delete_after_commit, storage
from portal.tenancy import ClientVisibility, bound_to, cross_tenant

#: How long a built export is kept before its file and row are deleted.
KEEP_FOR = timedelta(days=7)
#: Rows read per query, and written between two progress checkpoints.
BATCH = 200
#: The entries written whole: README.txt, me.json, contact.json, company.json.
FIXED_FILES = 4

log = logging.getLogger(__name__)

#: Called after each batch with the progress set on the export: the worker commits there.
Checkpoint = Callable[[], None]


class ExportRefused(Refusal):
    """The export cannot be asked for now; the message says why."""


def in_progress(user: User) -> DataExport | None:
    return db.session.scalar(
        select(DataExport).where(
            DataExport.user_id == user.id,
            DataExport.state.in_([ExportState.QUEUED, ExportState.BUILDING]),
        )
    )


def exports_of(user: User) -> list[DataExport]:
    """The user's exports still kept, newest first."""
    return db.session.scalars(
        select(DataExport).where(DataExport.user_id == user.id).order_by(DataExport.id.desc())
    ).all()


def export_of(user: User, export_id: int) -> DataExport | None:
    """One of ``user``'s own exports; None for anyone else's."""
    return db.session.scalar(
        select(DataExport).where(DataExport.id == export_id, DataExport.user_id == user.id)
    )


def request_export(*, actor: Actor) -> DataExport:
    """Queue an export of ``actor.user``'s data; refused while one is still in progress."""
    user = actor.user
    if not user.is_client:
        raise ExportRefused(_l("Only a client's contact can export their data here."))
    if in_progress(user) is not None:
        raise ExportRefused(
            _l("Your data is already being prepared: wait until it is ready to ask again.")
        )
    now = utcnow()
    export = DataExport(
        client_id=user.client_id,
        user_id=user.id,
        state=ExportState.QUEUED,
        created_at=now,
        expires_at=now + KEEP_FOR,
    )
    db.session.add(export)
    db.session.flush()
    audit.record(
        "data.export_requested",
        actor=actor,
        client_id=user.client_id,
        user_id=user.id,
        export_id=export.id,
    )
    return export


def open_download(export: DataExport, *, actor: Actor) -> BinaryIO:
    """The ready export's ZIP, opened for streaming; the download is recorded."""
    if export.state is not ExportState.READY or not export.storage_key:
        raise ExportRefused(_l("This export is not ready."))
    try:
        file = storage().open(export.storage_key)
    except NotStored:
        raise ExportRefused(_l("This export is no longer kept: ask for a new one.")) from None
    audit.record(
        "data.export_downloaded",
        actor=actor,
        client_id=export.client_id,
        user_id=export.user_id,
        export_id=export.id,
    )
    return file


def due() -> list[tuple[int, int]]:
    """(tenant id, export id) of the exports waiting to be built, oldest first, in every
    tenant: the worker builds them one by one. One left building by a worker that stopped
    is built again."""
    with cross_tenant(db.session):  # the worker serves every tenant, then binds each
        return [
            (tenant_id, export_id)
            for tenant_id, export_id in db.session.execute(
                select(DataExport.tenant_id, DataExport.id)
                .where(DataExport.state.in_([ExportState.QUEUED, ExportState.BUILDING]))
                .order_by(DataExport.id)
            )
        ]


def build_due(checkpoint: Checkpoint, rollback: Callable[[], None]) -> tuple[int, int]:
    """Build every export waiting; how many were built and how many failed (marked so,
    the user may ask again). ``checkpoint`` commits, ``rollback`` rolls back."""
    built = failed = 0
    for tenant_id, export_id in due():
        try:
            build(tenant_id, export_id, checkpoint)
        except Exception:
            log.exception("data export %s could not be built", export_id)
            rollback()
            with bound_to(db.session, tenant_id):
                export = db.session.get(DataExport, export_id)
                if export is not None:
                    export.state = ExportState.FAILED
                    export.finished_at = utcnow()
            checkpoint()
            failed += 1
        else:
            built += 1
    return built, failed


def remove_expired(now: datetime | None = None) -> int:
    """Delete the exports past their expiry, rows and files, in every tenant; how many.
    The caller commits (the files go once it has)."""
    now = now or utcnow()
    with cross_tenant(db.session):  # the worker's cleaning serves every tenant
        expired = db.session.execute(
            select(DataExport.id, DataExport.storage_key).where(DataExport.expires_at < now)
        ).all()
        for _id, key in expired:
            if key:
                delete_after_commit(db.session, key)
        if expired:
            db.session.execute(
                delete(DataExport)
                .where(DataExport.id.in_([row.id for row in expired]))
                .execution_options(synchronize_session=False)
            )
    return len(expired)


def build(tenant_id: int, export_id: int, checkpoint: Checkpoint) -> None:
    """Write the export's ZIP, reading as its user would, and mark it ready."""
    with bound_to(db.session, tenant_id):
        export = db.session.get(DataExport, export_id)
        if export is None or not export.state.in_progress:
            return
        user = export.user
        tenant = db.session.get(Tenant, tenant_id)
        locale = languages.locale_for(tenant, user=user)
        visibility = ClientVisibility.of(user)
    with bound_to(db.session, tenant_id, visibility), force_locale(locale):
        _Builder(tenant, export, user, checkpoint).run()


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "value") and not isinstance(value, int | str):  # an enumeration
        return value.value
    return value


def _cell(value: Any) -> str:
    """A value as a spreadsheet shows it, never as a formula it would run."""
    text = "" if value is None else str(_value(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _keyset(statement, column, size: int = BATCH) -> Iterator[list]:
    """The rows of ``statement`` in pages of ``size``, by ascending ``column`` (an id)."""
    last = None
    while True:
        page = statement.order_by(column).limit(size)
        if last is not None:
            page = page.where(column > last)
        rows = db.session.scalars(page).unique().all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


#: The README's lines: each file and what it holds.
README = (
    ("README.txt", _l("This file.")),
    ("me.json", _l("Your user account: code, name, email, language, sign-ins, sessions.")),
    ("contact.json", _l("Your contact card.")),
    ("company.json", _l("Your company's details and time credit accounts.")),
    ("contacts.json, contacts.csv", _l("Your company's contacts.")),
    ("time-credit.json, time-credit.csv", _l("The entries of your company's time credit.")),
    (
        "requests.json, requests.csv",
        _l("Your company's support requests; the JSON file also holds their messages."),
    ),
    ("audit.json, audit.csv", _l("What the log recorded that you did, or that was about you.")),
)


class _Builder:
    def __init__(self, tenant: Tenant, export: DataExport, user: User, checkpoint: Checkpoint):
        self.tenant = tenant
        self.export_id = export.id
        self.client_id = export.client_id
        self.user_id = user.id
        self.contact_id = user.contact_id
        self.checkpoint = checkpoint
        self.done = 0
        self.unsaved = 0

    # -- the queries, each through the user's scoping --------------------------------
    def contacts(self):
        return select(Contact).where(Contact.archived_at.is_(None))

    def entries(self):
        return select(LedgerEntry).options(joinedload(LedgerEntry.technician))

    def requests(self):
        return select(SupportRequest).options(joinedload(SupportRequest.contact))

    def events(self):
        about = [AuditEvent.actor_id == self.user_id]
        about.append(AuditEvent.details["user_id"].as_integer() == self.user_id)
        if self.contact_id is not None:
            about.append(AuditEvent.details["contact_id"].as_integer() == self.contact_id)
        return (
            select(AuditEvent)
            .options(joinedload(AuditEvent.actor))
            .where(or_(*about), AuditEvent.action != "request.noted")
        )

    def sessions(self):
        return select(UserSession).where(UserSession.user_id == self.user_id)

    def count(self, statement) -> int:
        return db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0

    # -- progress ----------------------------------------------------------------------
    def export(self) -> DataExport:
        return db.session.get(DataExport, self.export_id)

    def advance(self, count: int = 1) -> None:
        self.done += count
        self.unsaved += count
        if self.unsaved >= BATCH:
            self.save_progress()

    def save_progress(self) -> None:
        self.export().done = self.done
        self.unsaved = 0
        db.session.flush()
        self.checkpoint()

    # -- the run -----------------------------------------------------------------------
    def run(self) -> None:
        export = self.export()
        export.state = ExportState.BUILDING
        export.done = 0
        export.total = (
            FIXED_FILES
            + self.count(self.sessions())
            + 2
            * sum(
                self.count(statement)
                for statement in (self.contacts(), self.entries(), self.requests(), self.events())
            )
        )
        db.session.flush()
        self.checkpoint()
        key = f"tenants/{self.tenant.id}/exports/{self.export_id}-{utcnow():%Y%m%d%H%M%S}.zip"
        with storage().writer(key) as file:
            with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                self.write_all(archive)
            size = file.tell()
        export = self.export()
        export.state = ExportState.READY
        export.done = export.total = max(self.done, export.total)
        export.storage_key = key
        export.size = size
        export.finished_at = utcnow()
        export.expires_at = export.finished_at + KEEP_FOR
        audit.record(
            "data.export_built",
            actor=Actor(tenant=self.tenant),
            client_id=self.client_id,
            user_id=self.user_id,
            export_id=self.export_id,
        )
        db.session.flush()
        self.checkpoint()

    def write_all(self, archive: zipfile.ZipFile) -> None:
        self.write_text(archive, "README.txt", self.readme())
        self.write_me(archive)
        self.write_json(archive, "contact.json", self.contact_card())
        self.write_json(archive, "company.json", self.company())
        self.write_table(archive, "contacts", self.contacts(), Contact.id, self.contact_row)
        self.write_table(archive, "time-credit", self.entries(), LedgerEntry.id, self.entry_row)
        self.write_requests(archive)
        self.write_table(archive, "audit", self.events(), AuditEvent.id, self.event_row)

    def write_text(self, archive, name: str, text: str) -> None:
        with archive.open(name, "w") as entry:
            entry.write(text.encode())
        self.advance()

    def write_json(self, archive, name: str, data: dict) -> None:
        self.write_text(archive, name, json.dumps(data, ensure_ascii=False, indent=2) + "\n")

    def readme(self) -> str:
        lines = [
            _("Your data at %(tenant)s", tenant=self.tenant.name),
            "",
            _(
                "Everything Portal holds about you, and your company's data you may see in "
                "the portal, as of %(date)s (UTC). JSON files are for programs, CSV files "
                "open in a spreadsheet.",
                date=utcnow().strftime("%Y-%m-%d %H:%M"),
            ),
            "",
        ]
        lines += [f"{name}: {description}" for name, description in README]
        return "\n".join(lines) + "\n"

    def write_me(self, archive) -> None:
        user = db.session.get(User, self.user_id)
        head = {
            "code": user.code,
            "name": user.name,
            "email": user.email,
            "language": user.locale,
            "created_at": _value(user.created_at),
            "last_sign_in_at": _value(user.last_login_at),
            "role": user.role.name,
            "second_factor": user.has_second_factor,
            "passkeys": [key.name for key in user.passkeys],
            "allowed_network": user.allowed_network,
        }
        with archive.open("me.json", "w") as entry:
            text = json.dumps(head, ensure_ascii=False, indent=2)
            entry.write((text[: text.rindex("}")].rstrip() + ',\n  "sessions": [').encode())
            first = True
            for rows in _keyset(self.sessions(), UserSession.id):
                for session in rows:
                    item = {
                        "signed_in_at": _value(session.created_at),
                        "last_seen_at": _value(session.last_seen_at),
                        "ended_at": _value(session.ended_at),
                        "address": session.ip_address,
                        "browser": session.user_agent,
                        "method": session.method,
                    }
                    entry.write((("\n    " if first else ",\n    ") + _dumps(item)).encode())
                    first = False
                self.advance(len(rows))
            entry.write(b"\n  ]\n}\n")
        self.advance()

    def contact_card(self) -> dict:
        contact = db.session.get(Contact, self.contact_id) if self.contact_id else None
        return self.contact_row(contact) if contact else {}

    def company(self) -> dict:
        client = db.session.get(Client, self.client_id)
        accounts = db.session.scalars(select(CreditAccount).order_by(CreditAccount.id)).all()
        return {
            "code": client.code,
            "name": client.name,
            "status": _value(client.status),
            "language": client.language,
            "currency": client.currency,
            "business_number": client.business_number,
            "email": client.email,
            "phone": client.phone,
            "mobile": client.mobile,
            "fax": client.fax,
            "website": client.website,
            "billing_address": client.address("billing"),
            "shipping_address": client.address("shipping"),
            "time_credit_accounts": [
                {
                    "customer_id": account.customer_id,
                    "balance_minutes": account.balance_minutes,
                    "valid_until": _value(account.valid_until),
                }
                for account in accounts
            ],
        }

    @staticmethod
    def contact_row(contact: Contact) -> dict:
        return {
            "id": contact.id,
            "name": contact.name,
            "title": contact.title,
            "department": contact.department,
            "email": contact.email,
            "phone": contact.phone,
            "mobile": contact.mobile,
            "fax": contact.fax,
            "location": contact.location,
        }

    def entry_row(self, entry: LedgerEntry) -> dict:
        return {
            "account": self.customer_ids().get(entry.account_id),
            "position": entry.position,
            "date": _value(entry.created_at),
            "kind": _value(entry.kind),
            "billing": _value(entry.billing),
            "minutes": entry.minutes,
            "delta": entry.delta,
            "credit_before": entry.credit_before,
            "credit_after": entry.credit_after,
            "summary": entry.summary,
            "advice": entry.advice,
            "technician": entry.technician.name if entry.technician else None,
        }

    def customer_ids(self) -> dict[int, str]:
        if not hasattr(self, "_customer_ids"):
            self._customer_ids = dict(
                db.session.execute(select(CreditAccount.id, CreditAccount.customer_id)).all()
            )
        return self._customer_ids

    @staticmethod
    def request_row(request: SupportRequest) -> dict:
        return {
            "reference": request.reference,
            "kind": _value(request.kind),
            "subject": request.subject,
            "description": request.description,
            "state": _value(request.state),
            "state_reason": request.state_reason,
            "priority": _value(request.priority),
            "contact": request.contact.name if request.contact else None,
            "opened_at": _value(request.created_at),
            "updated_at": _value(request.updated_at),
            "resolved_at": _value(request.resolved_at),
            "minutes_normal": request.minutes_normal,
            "minutes_free": request.minutes_free,
        }

    def event_row(self, event: AuditEvent) -> dict:
        own = event.actor_id == self.user_id
        return {
            "date": _value(event.created_at),
            "action": event.action,
            "what": str(action_label(event.action)),
            "by": event.actor.name if event.actor else None,
            "address": event.ip_address if own else None,
            "details": event.details,
        }

    def write_table(self, archive, name: str, statement, column, row: Callable) -> None:
        """``name``.json (an array) then ``name``.csv, each read in batches."""
        with archive.open(f"{name}.json", "w") as entry:
            entry.write(b"[")
            first = True
            for rows in _keyset(statement, column):
                for item in rows:
                    entry.write((("\n  " if first else ",\n  ") + _dumps(row(item))).encode())
                    first = False
                self.advance(len(rows))
            entry.write(b"\n]\n")
        with archive.open(f"{name}.csv", "w") as entry:
            self.write_csv(entry, statement, column, row)

    def write_csv(self, entry, statement, column, row: Callable) -> None:
        buffer = io.StringIO()
        writer = None
        for rows in _keyset(statement, column):
            for item in rows:
                values = row(item)
                if writer is None:
                    writer = csv.writer(buffer)
                    writer.writerow(values.keys())
                writer.writerow(
                    _cell(json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v)
                    for v in values.values()
                )
            entry.write(buffer.getvalue().encode())
            buffer.seek(0)
            buffer.truncate()
            self.advance(len(rows))

    def write_requests(self, archive) -> None:
        """requests.json with each request's public messages, then requests.csv."""
        with archive.open("requests.json", "w") as entry:
            entry.write(b"[")
            first = True
            for rows in _keyset(self.requests(), SupportRequest.id):
                messages: dict[int, list] = {}
                for message in db.session.scalars(
                    select(RequestMessage)
                    .options(joinedload(RequestMessage.author))
                    .where(
                        RequestMessage.request_id.in_([request.id for request in rows]),
                        RequestMessage.internal.is_(False),  # the scoping says so too
                    )
                    .order_by(RequestMessage.id)
                ):
                    messages.setdefault(message.request_id, []).append(
                        {
                            "date": _value(message.created_at),
                            "by": message.author.name if message.author else None,
                            "text": message.body,
                        }
                    )
                for request in rows:
                    item = self.request_row(request) | {"messages": messages.get(request.id, [])}
                    entry.write((("\n  " if first else ",\n  ") + _dumps(item)).encode())
                    first = False
                self.advance(len(rows))
            entry.write(b"\n]\n")
        with archive.open("requests.csv", "w") as entry:
            self.write_csv(entry, self.requests(), SupportRequest.id, self.request_row)


def _dumps(item: dict) -> str:
    return json.dumps(item, ensure_ascii=False, default=_value)
