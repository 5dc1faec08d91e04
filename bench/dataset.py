"""The data set of the load benchmark (issue 10): three tenants sharing the tables, with
100,000 clients, 300,000 contacts, 1,000 credit accounts and 1,000,000 ledger entries in
all, one account holding 100,000 of them; and in the measured tenant 100,000 support
requests with their conversations (one in three from the signed-in customer's company)
and two chat channels of 100 and 100,000 messages that its technician reads.
PostgreSQL only: the rows go in with COPY.

This is deliberately cross-tenant code, like a CLI import: the bulk rows bypass the ORM,
whose tenancy hooks never see them, so every row carries its ``tenant_id`` explicitly.
The tenants, their staff and the client user are made by Portal's own services."""

import enum
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from clients import FIRST_NAMES, KNOWN_NAME, SEARCH, client_row
from common import PASSWORD, client_user
from requests import request_row
from sqlalchemy import Table, func, select, text
from statement import entry_rows
from werkzeug.security import generate_password_hash

from portal.extensions import db
from portal.models import (
    ChatChannel,
    ChatMessage,
    Client,
    ClientMode,
    ClientSearchTerm,
    Contact,
    CreditAccount,
    CreditAccountClient,
    LedgerEntry,
    RequestCounter,
    RequestMessage,
    SupportRequest,
    SystemRole,
    Tenant,
    User,
    UserKind,
    UserStatus,
)
from portal.services import chat, credit
from portal.services.actor import Actor
from portal.services.chat_markup import render
from portal.services.search import client_terms
from portal.services.tenants import create_staff_user, create_tenant, role_named, system_role
from portal.tenancy import bound_to, cross_tenant

#: slug, name, share of the clients and of the accounts. The first tenant is measured;
#: the others make the shared tables as big as the issue asks.
TENANTS = (
    ("alpha", "Alpha Services", 0.5),
    ("beta", "Beta Services", 0.3),
    ("gamma", "Gamma Services", 0.2),
)
CONTACTS_PER_CLIENT = 3
#: The accounts the pages look at, all in the first tenant.
LARGE_ENTRIES = 100_000
SMALL_ENTRIES = 100
#: The account interventions are recorded on during the run: enough credit for them all.
RECORD_CREDIT_MINUTES = 10_000_000
#: The customer ids of the three accounts the pages use (the first accounts loaded).
LARGE_ACCOUNT, SMALL_ACCOUNT, RECORD_ACCOUNT = "C00001", "C00002", "C00003"
#: Support requests of a quick try at least: the customer's list is a full page of
#: requests still going on either way.
MIN_REQUESTS = 300
#: The chat channels the technician is a member of, kept at their sizes in a quick try.
SMALL_MESSAGES, LARGE_MESSAGES = 100, 100_000


@dataclass(frozen=True)
class Sizes:
    clients: int = 100_000
    accounts: int = 1_000
    entries: int = 1_000_000
    requests: int = 100_000

    def scaled(self, factor: float) -> "Sizes":
        """Smaller, for a quick try; the two measured accounts and the two channels keep
        their sizes."""
        return Sizes(
            clients=max(30, round(self.clients * factor)),
            accounts=max(6, round(self.accounts * factor)),
            entries=max(LARGE_ENTRIES + SMALL_ENTRIES + 1_000, round(self.entries * factor)),
            requests=max(MIN_REQUESTS, round(self.requests * factor)),
        )


@dataclass
class Loaded:
    """What the pages need: ids in the measured tenant, and the row counts."""

    slug: str
    known_client_id: int
    large_account_id: int
    small_account_id: int
    record_account_id: int
    record_client_id: int
    search: str
    client_login: str
    #: A support request of the customer's company, in the middle of its history.
    request_id: int
    small_channel_id: int
    large_channel_id: int
    counts: dict[str, int] = field(default_factory=dict)


def copy_rows(table: Table, rows: Iterable[dict]) -> int:
    """COPY ``rows`` into ``table`` on the session's connection; return how many. A
    column a row leaves out takes its model default, as an ORM insert would give it."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return 0
    defaults = {
        column.name: column.default.arg(None)
        if callable(column.default.arg)
        else column.default.arg
        for column in table.columns
        if column.name not in first
        and column.default is not None
        and column.default.is_scalar
        or column.name not in first
        and column.default is not None
        and column.default.is_callable
    }
    names = [*first, *defaults]
    quoted = ", ".join(f'"{name}"' for name in names)
    cursor = db.session.connection().connection.driver_connection.cursor()
    count = 0
    with cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
        for row in itertools.chain([first], rows):
            copy.write_row(
                [value.value if isinstance(value, enum.Enum) else value for value in row.values()]
                + list(defaults.values())
            )
            count += 1
    return count


def reset_sequences(*tables: Table) -> None:
    """After rows copied with their ids, the next insert must not reuse one."""
    with cross_tenant(db.session):
        for table in tables:
            db.session.execute(
                select(
                    func.setval(func.pg_get_serial_sequence(table.name, "id"), func.max(table.c.id))
                )
            )


def split(total: int, shares: Iterable[float]) -> list[int]:
    """``total`` cut by ``shares``, the remainder to the first."""
    parts = [int(total * share) for share in shares]
    parts[0] += total - sum(parts)
    return parts


def ledger_sizes(accounts: int, entries: int) -> list[int]:
    """The large and the small account first, the rest of the entries spread evenly."""
    rest, others = entries - LARGE_ENTRIES - SMALL_ENTRIES, accounts - 2
    return [LARGE_ENTRIES, SMALL_ENTRIES] + [
        rest // others + (1 if index < rest % others else 0) for index in range(others)
    ]


def contact_rows(tenant_id: int, client_id: int, index: int, client: dict) -> list[dict]:
    return [
        {
            "id": None,
            "tenant_id": tenant_id,
            "client_id": client_id,
            "name": f"{FIRST_NAMES[(index + offset) % len(FIRST_NAMES)]} {client['name']}",
            "email": f"contact{offset}.{client['code']}@example.com",
            "phone": f"+1 514 {offset:03d} {index % 10_000:04d}",
        }
        for offset in range(1, CONTACTS_PER_CLIENT + 1)
    ]


class Ids:
    """Explicit ids for copied rows, so that later rows can point at them."""

    def __init__(self, model) -> None:
        with cross_tenant(db.session):
            self.next = (db.session.scalar(select(func.max(model.id))) or 0) + 1

    def take(self) -> int:
        self.next += 1
        return self.next - 1


def client_batches(tenant_id: int, count: int, known: bool, client_ids: Ids, contact_ids: Ids):
    """The tenant's clients with their contacts and search words; the known client (the
    one the pages show) sits in the middle."""
    for index in range(count):
        row = {"id": client_ids.take(), **client_row(tenant_id, index)}
        if known and index == count // 2:
            row.update(name=KNOWN_NAME, mode=ClientMode.INDIVIDUAL, email="h.david@example.com")
        contacts = contact_rows(tenant_id, row["id"], index, row)
        for contact in contacts:
            contact["id"] = contact_ids.take()
        terms = client_terms(
            SimpleNamespace(
                **row,
                contacts=[
                    SimpleNamespace(**contact, archived_at=None, mobile=None)
                    for contact in contacts
                ],
            )
        )
        yield row, contacts, sorted(terms)


def load_clients(tenants: list[tuple[int, int]]) -> dict[int, list[int]]:
    """COPY every tenant's clients, contacts and search words; return client ids by tenant."""
    client_ids, contact_ids = Ids(Client), Ids(Contact)
    by_tenant: dict[int, list[int]] = {}
    clients, contacts, terms = [], [], []
    for number, (tenant_id, count) in enumerate(tenants):
        ids = by_tenant.setdefault(tenant_id, [])
        for row, its_contacts, its_terms in client_batches(
            tenant_id, count, number == 0, client_ids, contact_ids
        ):
            ids.append(row["id"])
            clients.append(row)
            contacts += its_contacts
            terms += [
                {"tenant_id": tenant_id, "client_id": row["id"], "term": term} for term in its_terms
            ]
    copy_rows(Client.__table__, clients)
    copy_rows(Contact.__table__, contacts)
    copy_rows(ClientSearchTerm.__table__, terms)
    reset_sequences(Client.__table__, Contact.__table__)
    return by_tenant


def load_ledgers(accounts: list[tuple[int, int, int, int]]) -> None:
    """COPY the accounts (tenant, client, technician, size) and their entries; each
    account's running chain and summary fields are consistent, as ``credit.verify`` checks."""
    account_ids = Ids(CreditAccount)
    account_rows, links = [], []

    def entries() -> Iterator[dict]:
        for number, (tenant_id, client_id, technician_id, size) in enumerate(accounts):
            account_id = account_ids.take()
            first = last = last_row = None
            for chunk in entry_rows(tenant_id, account_id, client_id, technician_id, size):
                for row in chunk:
                    if row["kind"] == "intervention":
                        first = first or row["created_at"]
                        last = row["created_at"]
                    yield row
                last_row = chunk[-1]
            account_rows.append(
                {
                    "id": account_id,
                    "tenant_id": tenant_id,
                    "customer_id": f"C{number + 1:05d}",
                    "billing_client_id": client_id,
                    "balance_minutes": last_row["credit_after"],
                    "entry_count": last_row["position"],
                    "cumulative_normal": last_row["cumulative_normal"],
                    "cumulative_free": last_row["cumulative_free"],
                    "first_intervention_at": first,
                    "last_intervention_at": last,
                }
            )
            links.append({"tenant_id": tenant_id, "account_id": account_id, "client_id": client_id})

    copy_rows(LedgerEntry.__table__, entries())
    copy_rows(CreditAccount.__table__, account_rows)
    copy_rows(CreditAccountClient.__table__, links)
    reset_sequences(CreditAccount.__table__)


def load_requests(
    tenant_id: int, client_ids: list[int], customer: User, technician_id: int, count: int
) -> None:
    """COPY ``count`` support requests of the tenant over ``client_ids``, one in three
    from the first (the customer's company, as bench/requests.py makes them), each with
    its conversation; and the tenant's reference counters."""
    first_id = Ids(SupportRequest).next

    def request(index: int) -> dict:
        row = {"id": first_id + index, **request_row(tenant_id, index, client_ids)}
        asked = row["client_id"] == customer.client_id
        row["contact_id"] = customer.contact_id if asked else None
        row["opened_by_id"] = customer.id if asked else None
        return row

    copy_rows(SupportRequest.__table__, (request(index) for index in range(count)))
    copy_rows(
        RequestMessage.__table__,
        (
            message
            for index in range(count)
            for message in conversation(request(index), technician_id, customer)
        ),
    )
    years = range(request(0)["year"], request(count - 1)["year"] + 1)
    copy_rows(
        RequestCounter.__table__,
        ({"tenant_id": tenant_id, "year": year, "last_number": count} for year in years),
    )
    reset_sequences(SupportRequest.__table__)


def conversation(request: dict, technician_id: int, customer: User) -> list[dict]:
    """The desk's reply and its internal note (which the customer never sees), and on
    the customer's own requests their answer: an hour apart."""
    said = [
        (technician_id, False, "We are looking into it: which printer is it?"),
        (technician_id, True, "Probably the driver update of last week."),
    ]
    if request["client_id"] == customer.client_id:
        said.append((customer.id, False, "The one in the accounting office."))
    return [
        {
            "tenant_id": request["tenant_id"],
            "request_id": request["id"],
            "client_id": request["client_id"],
            "author_id": author_id,
            "internal": internal,
            "body": body,
            "created_at": request["created_at"] + timedelta(hours=number + 1),
        }
        for number, (author_id, internal, body) in enumerate(said)
    ]


def message_rows(tenant_id: int, channel_id: int, authors: list[int], count: int):
    """``count`` messages for a channel, one a minute, oldest first, as posted."""
    html = render("Morning: the **backup** of the file server ran fine.", {}).html
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for index in range(count):
        yield {
            "tenant_id": tenant_id,
            "channel_id": channel_id,
            "author_id": authors[index % len(authors)],
            "body": "Morning: the **backup** of the file server ran fine.",
            "html": html,
            "sequence": index + 1,
            "created_at": start + timedelta(minutes=index),
        }


def fill(tenant_id: int, channel: ChatChannel, authors: list[int], count: int) -> None:
    """COPY ``count`` messages into ``channel`` and set its sequence and last message."""
    copy_rows(ChatMessage.__table__, message_rows(tenant_id, channel.id, authors, count))
    channel.sequence = count
    channel.last_message_id = db.session.scalar(
        select(func.max(ChatMessage.id)).where(ChatMessage.channel_id == channel.id)
    )


def channel_name(size: int) -> str:
    return f"{size:,} messages"


def load_chat(tenant: Tenant, technician: User, colleague_id: int) -> None:
    """The technician's two channels with a colleague, of 100 and 100,000 messages
    written by both (Portal's service makes each channel; COPY fills it)."""
    authors = [technician.id, colleague_id]
    for size in (SMALL_MESSAGES, LARGE_MESSAGES):
        channel = chat.create_channel(
            channel_name(size), "#1f5fbf", None, authors, actor=Actor(tenant, user=technician)
        )
        fill(tenant.id, channel, authors, size)


def load(sizes: Sizes) -> Loaded:
    """Fill an empty, migrated PostgreSQL database; return what the pages need."""
    # The foreign keys are right by construction (every id is assigned here); checking
    # them row by row would triple the load. A superuser setting, as the local server's
    # postgres user is.
    db.session.execute(text("SET LOCAL session_replication_role = replica"))
    password_hash = generate_password_hash(PASSWORD)
    staff, admins = {}, {}
    for slug, name, _share in TENANTS:
        tenant = create_tenant(slug, name, administrators_two_factor=False)
        with bound_to(db.session, tenant.id):
            made = {}
            for login, role in (
                ("admin", system_role(SystemRole.ADMINISTRATOR)),
                ("tech", role_named("Technician")),
            ):
                made[login] = user = create_staff_user(
                    email=f"{login}@{slug}.test",
                    name=f"{name} {login.title()}",
                    password=None,
                    role=role,
                )
                user.password_hash, user.status = password_hash, UserStatus.ACTIVE
            db.session.flush()
            staff[tenant.id], admins[tenant.id] = made["tech"].id, made["admin"].id
    tenant_ids = list(staff)
    shares = [share for _slug, _name, share in TENANTS]
    clients = load_clients(list(zip(tenant_ids, split(sizes.clients, shares), strict=True)))
    measured = tenant_ids[0]
    known_client_id = clients[measured][len(clients[measured]) // 2]
    record_client_id = clients[measured][1]
    owners = []
    for tenant_id, count in zip(tenant_ids, split(sizes.accounts, shares), strict=True):
        its_clients = clients[tenant_id]
        step = max(1, len(its_clients) // count)
        owners += [
            (tenant_id, its_clients[(index * step) % len(its_clients)]) for index in range(count)
        ]
    owners[0] = owners[1] = (measured, known_client_id)
    owners[2] = (measured, record_client_id)
    sizes_of = ledger_sizes(sizes.accounts, sizes.entries)
    load_ledgers(
        [
            (tenant_id, client_id, staff[tenant_id], size)
            for (tenant_id, client_id), size in zip(owners, sizes_of, strict=True)
        ]
    )
    with bound_to(db.session, measured):
        tenant = db.session.get(Tenant, measured)
        technician = db.session.get(User, staff[measured])
        known = db.session.get(Client, known_client_id)
        customer = client_user(known.contacts[0], "HD1", password_hash)
        credit.record_purchase(
            credit.lock(account_id(RECORD_ACCOUNT)),
            minutes=RECORD_CREDIT_MINUTES,
            amount=None,
            reference="BENCH",
            valid_until=None,
            actor=Actor(tenant, user=technician),
        )
        db.session.flush()
        others = [client_id for client_id in clients[measured] if client_id != known_client_id]
        load_requests(measured, [known_client_id, *others], customer, technician.id, sizes.requests)
        load_chat(tenant, technician, admins[measured])
        db.session.commit()
    return find()


def account_id(customer_id: str) -> int:
    return db.session.scalar(
        select(CreditAccount.id).where(CreditAccount.customer_id == customer_id)
    )


def customer_request(client_id: int) -> int | None:
    """The request in the middle of the company's history (None before any)."""
    of_client = SupportRequest.client_id == client_id
    count = db.session.scalar(select(func.count()).where(of_client))
    return db.session.scalar(
        select(SupportRequest.id).where(of_client).order_by(SupportRequest.id).offset(count // 2)
    )


def channel_ids() -> dict[int, int]:
    """The technician's two channels' ids by their size."""
    sizes = {channel_name(size): size for size in (SMALL_MESSAGES, LARGE_MESSAGES)}
    found = db.session.execute(
        select(ChatChannel.name, ChatChannel.id).where(ChatChannel.name.in_(sizes))
    )
    return {sizes[name]: channel_id for name, channel_id in found}


def find() -> Loaded:
    """What the pages need, from a database ``load`` filled; a database an older version
    of this file filled (without requests or chat) is refused with what to do."""
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == TENANTS[0][0]))
    with bound_to(db.session, tenant.id):
        record_account = db.session.get(CreditAccount, account_id(RECORD_ACCOUNT))
        known_client_id = db.session.scalar(select(Client.id).where(Client.name == KNOWN_NAME))
        request_id, channels = customer_request(known_client_id), channel_ids()
        if request_id is None or len(channels) < 2:
            name = db.engine.url.database
            raise SystemExit(
                f"The kept database {name!r} was loaded before the support requests and the "
                f"chat joined the data set: drop it (dropdb -h 127.0.0.1 -U postgres {name}) "
                "and run again with --database to load it anew."
            )
        loaded = Loaded(
            slug=tenant.slug,
            known_client_id=known_client_id,
            large_account_id=account_id(LARGE_ACCOUNT),
            small_account_id=account_id(SMALL_ACCOUNT),
            record_account_id=record_account.id,
            record_client_id=record_account.billing_client_id,
            search=SEARCH,
            client_login=db.session.scalar(select(User.email).where(User.kind == UserKind.CLIENT)),
            request_id=request_id,
            small_channel_id=channels[SMALL_MESSAGES],
            large_channel_id=channels[LARGE_MESSAGES],
        )
    with cross_tenant(db.session):
        loaded.counts = {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (
                Client,
                Contact,
                ClientSearchTerm,
                CreditAccount,
                LedgerEntry,
                SupportRequest,
                RequestMessage,
                ChatMessage,
            )
        }
    return loaded
