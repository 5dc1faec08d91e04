"""The data set of the load benchmark (issue 10): three tenants sharing the tables, with
100,000 clients, 300,000 contacts, 1,000 credit accounts and 1,000,000 ledger entries in
all, one account holding 100,000 of them. PostgreSQL only: the rows go in with COPY.

This is deliberately cross-tenant code, like a CLI import: the bulk rows bypass the ORM,
whose tenancy hooks never see them, so every row carries its ``tenant_id`` explicitly.
The tenants, their staff and the client user are made by Portal's own services."""

import enum
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace

from clients import FIRST_NAMES, KNOWN_NAME, SEARCH, client_row
from common import PASSWORD, client_user
from sqlalchemy import Table, func, select, text
from statement import entry_rows
from werkzeug.security import generate_password_hash

from portal.extensions import db
from portal.models import (
    Client,
    ClientMode,
    ClientSearchTerm,
    Contact,
    CreditAccount,
    CreditAccountClient,
    LedgerEntry,
    SystemRole,
    Tenant,
    User,
    UserKind,
    UserStatus,
)
from portal.services import credit
from portal.services.actor import Actor
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


@dataclass(frozen=True)
class Sizes:
    clients: int = 100_000
    accounts: int = 1_000
    entries: int = 1_000_000

    def scaled(self, factor: float) -> "Sizes":
        """Smaller, for a quick try; the two measured accounts keep their sizes."""
        return Sizes(
            clients=max(30, round(self.clients * factor)),
            accounts=max(6, round(self.accounts * factor)),
            entries=max(LARGE_ENTRIES + SMALL_ENTRIES + 1_000, round(self.entries * factor)),
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


def load(sizes: Sizes) -> Loaded:
    """Fill an empty, migrated PostgreSQL database; return what the pages need."""
    # The foreign keys are right by construction (every id is assigned here); checking
    # them row by row would triple the load. A superuser setting, as the local server's
    # postgres user is.
    db.session.execute(text("SET LOCAL session_replication_role = replica"))
    password_hash = generate_password_hash(PASSWORD)
    staff = {}
    for slug, name, _share in TENANTS:
        tenant = create_tenant(slug, name, administrators_two_factor=False)
        with bound_to(db.session, tenant.id):
            for login, role in (
                ("admin", system_role(SystemRole.ADMINISTRATOR)),
                ("tech", role_named("Technician")),
            ):
                user = create_staff_user(
                    email=f"{login}@{slug}.test",
                    name=f"{name} {login.title()}",
                    password=None,
                    role=role,
                )
                user.password_hash, user.status = password_hash, UserStatus.ACTIVE
            db.session.flush()
            staff[tenant.id] = user.id
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
        technician = db.session.get(User, staff[measured])
        known = db.session.get(Client, known_client_id)
        contact = known.contacts[0]
        client_user(contact, "HD1", password_hash)
        credit.record_purchase(
            credit.lock(account_id(RECORD_ACCOUNT)),
            minutes=RECORD_CREDIT_MINUTES,
            amount=None,
            reference="BENCH",
            valid_until=None,
            actor=Actor(db.session.get(Tenant, measured), user=technician),
        )
        db.session.commit()
    return find()


def account_id(customer_id: str) -> int:
    return db.session.scalar(
        select(CreditAccount.id).where(CreditAccount.customer_id == customer_id)
    )


def find() -> Loaded:
    """What the pages need, from a database ``load`` filled."""
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == TENANTS[0][0]))
    with bound_to(db.session, tenant.id):
        record_account = db.session.get(CreditAccount, account_id(RECORD_ACCOUNT))
        loaded = Loaded(
            slug=tenant.slug,
            known_client_id=db.session.scalar(select(Client.id).where(Client.name == KNOWN_NAME)),
            large_account_id=account_id(LARGE_ACCOUNT),
            small_account_id=account_id(SMALL_ACCOUNT),
            record_account_id=record_account.id,
            record_client_id=record_account.billing_client_id,
            search=SEARCH,
            client_login=db.session.scalar(select(User.email).where(User.kind == UserKind.CLIENT)),
        )
    with cross_tenant(db.session):
        loaded.counts = {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Client, Contact, ClientSearchTerm, CreditAccount, LedgerEntry)
        }
    return loaded
