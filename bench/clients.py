"""Benchmark of the client pages (issue 3): does a tenant with 100,000 clients answer as
fast as one with 100, with the same number of SQL statements per request?

For each database and each size, it builds a fresh database with the migrations, fills
two tenants with that many clients each (the second one only makes the tables twice as
big, as they are when several tenants share them), signs in as the first tenant's
administrator and times the client list, a search and a client page through the Flask
test client. It prints the medians, the statements per request and the ratio between the
largest and the smallest size.

    .venv/bin/python bench/clients.py --databases sqlite,postgresql --sizes 100,100000
"""

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from common import (
    PASSWORD,
    IsolatedClient,
    Measure,
    StatementCounter,
    loaded,
    parse_options,
    report_sizes,
    sign_in,
)
from flask import Flask
from sqlalchemy import insert, text
from werkzeug.security import generate_password_hash

from portal.extensions import db
from portal.models import (
    Client,
    ClientMode,
    ClientSearchTerm,
    ClientStatus,
    ClientType,
    Contact,
    SystemRole,
    UserStatus,
)
from portal.services.search import client_terms, normalise
from portal.services.tenants import create_staff_user, create_tenant, system_role
from portal.tenancy import bound_to

TENANTS = (("alpha", "Alpha Services"), ("beta", "Beta Services"))
CHUNK = 5_000
PAGES = ("list", "search", "client")

#: The client every page looks at; no generated word starts with "herve".
KNOWN_NAME = "Hervé David"
SEARCH = "herve"

# Word lists combined with the client's number: names vary, yet every word but the
# number is shared by thousands of clients, as family names and trades are.
FIRST_NAMES = (
    "Alice",
    "Bruno",
    "Chloé",
    "Denis",
    "Élodie",
    "François",
    "Gaëlle",
    "Hugo",
    "Inès",
    "Jules",
    "Karim",
    "Léa",
    "Mathieu",
    "Nadia",
    "Olivier",
    "Pauline",
    "Quentin",
    "Rachid",
    "Sophie",
    "Thomas",
    "Victor",
    "Yasmine",
    "Zoé",
)
LAST_NAMES = (
    "Martin",
    "Bernard",
    "Dubois",
    "Tremblay",
    "Gagnon",
    "Roy",
    "Côté",
    "Bouchard",
    "Gauthier",
    "Morin",
    "Lavoie",
    "Fortin",
    "Gagné",
    "Ouellet",
    "Pelletier",
    "Bélanger",
    "Lévesque",
    "Bergeron",
    "Leblanc",
    "Paquette",
    "Girard",
    "Simard",
    "Boucher",
    "Caron",
    "Beaulieu",
    "Cloutier",
    "Dufour",
    "Poirier",
    "Fournier",
    "Lefebvre",
)
TRADES = (
    "Atelier",
    "Boulangerie",
    "Cabinet",
    "Clinique",
    "Garage",
    "Imprimerie",
    "Librairie",
    "Menuiserie",
    "Plomberie",
    "Pharmacie",
    "Quincaillerie",
    "Transports",
    "Toitures",
    "Électricité",
    "Fromagerie",
    "Traiteur",
)
CITIES = ("Montréal", "Québec", "Laval", "Gatineau", "Longueuil", "Sherbrooke", "Lévis")
AREA_CODES = ("514", "438", "450", "418")
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


# --- Data --------------------------------------------------------------------------------


def plain(text: str) -> str:
    """``text`` as an email address may spell it: lowercase ASCII letters and digits."""
    return "".join(normalise(text))


def client_row(tenant_id: int, index: int) -> dict:
    """The ``index``-th generated client: derived from the index alone, so reproducible."""
    number = index + 1
    first = FIRST_NAMES[index % len(FIRST_NAMES)]
    last = LAST_NAMES[index // len(FIRST_NAMES) % len(LAST_NAMES)]
    trade = TRADES[index % len(TRADES)]
    individual = index % 3 == 0
    return {
        "tenant_id": tenant_id,
        "code": str(1_000_000 + number),
        "name": f"{first} {last} {number}" if individual else f"{trade} {last} {number}",
        "mode": ClientMode.INDIVIDUAL if individual else ClientMode.COMPANY,
        "status": ClientStatus.ARCHIVED if index % 20 == 19 else ClientStatus.ACTIVE,
        "type": ClientType.PROSPECT if index % 5 == 4 else ClientType.CLIENT,
        "email": (
            f"{plain(first)}.{plain(last)}{number}@example.com"
            if individual
            else f"info@{plain(trade)}-{plain(last)}{number}.example.com"
        ),
        "phone": f"+1 {AREA_CODES[index % len(AREA_CODES)]} {number // 10_000 % 1000:03d} "
        f"{number % 10_000:04d}",
        "mobile": None,
        "fax": None,
        "billing_city": CITIES[index % len(CITIES)],
        "billing_country": "CA",
        "created_at": EPOCH + timedelta(minutes=index),
        "modified_at": EPOCH + timedelta(minutes=index, seconds=index % 3600),
    }


def insert_clients(tenant_id: int, size: int) -> int:
    """Bulk-load ``size`` clients with their search words into the tenant, some with two
    contacts; return the id of the known client, placed in the middle of the load. Both
    tenants have one, so the search has to pick the right one out of the shared index.

    This is deliberately cross-tenant code, like a CLI import: it writes with SQLAlchemy
    Core on the session's connection, which the ORM tenancy hooks never see, so it sets
    ``tenant_id`` on every row itself."""
    connection = db.session.connection()
    known_index = size // 2
    known_id = None
    for start in range(0, size, CHUNK):
        indexes = range(start, min(start + CHUNK, size))
        rows = [client_row(tenant_id, index) for index in indexes]
        if known_index in indexes:
            rows[known_index - start].update(
                name=KNOWN_NAME, mode=ClientMode.INDIVIDUAL, email="h.david@example.com"
            )
        ids = (
            connection.execute(
                insert(Client).returning(Client.id, sort_by_parameter_order=True), rows
            )
            .scalars()
            .all()
        )
        contacts = {
            client_id: [
                {
                    "tenant_id": tenant_id,
                    "client_id": client_id,
                    "name": f"{FIRST_NAMES[(index + offset) % len(FIRST_NAMES)]} {row['name']}",
                    "email": f"contact{offset}.{row['code']}@example.com",
                }
                for offset in (1, 2)
            ]
            for index, client_id, row in zip(indexes, ids, rows, strict=True)
            if index % 10 == 0 or index == known_index
        }
        connection.execute(insert(Contact), [one for both in contacts.values() for one in both])
        connection.execute(
            insert(ClientSearchTerm),
            [
                {"tenant_id": tenant_id, "client_id": client_id, "term": term}
                for client_id, row in zip(ids, rows, strict=True)
                for term in client_terms(
                    SimpleNamespace(
                        **row,
                        contacts=[
                            SimpleNamespace(**contact, archived_at=None, phone=None, mobile=None)
                            for contact in contacts.get(client_id, ())
                        ],
                    )
                )
            ],
        )
        if known_index in indexes:
            known_id = ids[known_index - start]
    return known_id


def load(size: int) -> int:
    """Create both tenants with ``size`` clients each; return the first one's known client."""
    postgresql = db.engine.dialect.name == "postgresql"
    if postgresql:
        # The foreign key checks, one per row, triple the load time. The rows are right by
        # construction (client ids come from RETURNING), so skip them for this transaction.
        # A superuser setting, as the local server's postgres user is.
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
    password_hash = generate_password_hash(PASSWORD)
    known_ids = []
    for slug, name in TENANTS:
        tenant = create_tenant(slug, name, administrators_two_factor=False)
        with bound_to(db.session, tenant.id):
            admin = create_staff_user(
                email=f"admin@{slug}.test",
                name=f"{name} Admin",
                password=None,
                role=system_role(SystemRole.ADMINISTRATOR),
            )
            admin.password_hash = password_hash
            admin.status = UserStatus.ACTIVE
            db.session.flush()
        known_ids.append(insert_clients(tenant.id, size))
    db.session.commit()
    if postgresql:
        # Autovacuum would gather the statistics after a while; the benchmark cannot wait.
        # SQLite never gathers them by itself and Portal does not ask it to, so it is
        # measured without, as a real Portal SQLite database is.
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return known_ids[0]


# --- Measuring ---------------------------------------------------------------------------


def check(response, url: str, expected: str) -> None:
    """Stop the benchmark unless the page answered 200 with ``expected`` in it."""
    if response.status_code != 200 or expected not in response.get_data(as_text=True):
        raise SystemExit(f"GET {url}: status {response.status_code}, expected {expected!r}.")


def measure(app: Flask, size: int, known_id: int, warmups: int, repeat: int) -> list[Measure]:
    slug = TENANTS[0][0]
    pages = {
        "list": (f"/{slug}/clients/", "<tbody>"),
        "search": (f"/{slug}/clients/?q={SEARCH}", f'href="/{slug}/clients/{known_id}"'),
        "client": (f"/{slug}/clients/{known_id}", KNOWN_NAME),
    }
    app.test_client_class = IsolatedClient
    client = app.test_client()
    sign_in(client, slug, f"admin@{slug}.test")
    counter = StatementCounter(db.engine)
    results = []
    for page, (url, expected) in pages.items():
        for _ in range(warmups):
            check(client.get(url), url, expected)
        result = Measure(page, size)
        for _ in range(repeat):
            counter.count, counter.counting = 0, True
            start = time.perf_counter()
            response = client.get(url)
            result.milliseconds.append((time.perf_counter() - start) * 1000)
            counter.counting = False
            result.statements.append(counter.count)
            check(response, url, expected)
        results.append(result)
    return results


def run(kind: str, size: int, options: argparse.Namespace) -> tuple[float, list[Measure]]:
    """Load and measure one size on a fresh database; return the load time and results."""
    print(f"{kind}: 2 tenants x {size:,} clients...", file=sys.stderr, flush=True)
    with loaded(kind, options.postgres_url, lambda: load(size)) as (app, load_seconds, known):
        results = measure(app, size, known, options.warmups, options.repeat)
    return load_seconds, results


# --- Report ------------------------------------------------------------------------------


def main() -> None:
    options, kinds, sizes = parse_options(
        __doc__.split("\n\n")[0], "comma-separated clients per tenant"
    )
    for kind in kinds:
        loads, results = {}, []
        for size in sizes:
            loads[size], measures = run(kind, size, options)
            results += measures
        report_sizes(kind, "clients", loads, results, PAGES)


if __name__ == "__main__":
    main()
