"""Benchmark of the support requests (issue 20): does a tenant with 100,000 requests
answer the desk's queue and a customer's list as fast as one with 100, with the same
number of SQL statements per request (at most 8)?

For each database and each size, it builds a fresh database with the migrations, fills
two tenants with that many requests each (the second one only makes the tables twice as
big), one request in three from the customer whose user signs in, in a mix of states,
then times through the Flask test client: the desk's queue as it opens, the queue of new
requests, a request's page, and the customer's list. It prints the medians, the
statements per request and the ratio between the sizes.

Each list is a full page (25 rows) at 100 requests already: otherwise the ratio would
measure a page of 5 rows against one of 25, not a table of 100 against 100,000.

    .venv/bin/python bench/requests.py --databases sqlite,postgresql --sizes 100,100000
"""

import argparse
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from functools import partial

from common import (
    PASSWORD,
    IsolatedClient,
    Measure,
    StatementCounter,
    client_user,
    loaded,
    parse_options,
    report_sizes,
    sign_in,
)
from sqlalchemy import insert, text
from werkzeug.security import generate_password_hash

from portal.extensions import db
from portal.models import (
    Client,
    Contact,
    Priority,
    RequestCounter,
    RequestKind,
    RequestState,
    SupportRequest,
    SystemRole,
    UserStatus,
)
from portal.models.request import UNRANKED
from portal.services.tenants import create_staff_user, create_tenant, system_role
from portal.tenancy import bound_to

TENANTS = (("alpha", "Alpha Services"), ("beta", "Beta Services"))
CLIENTS = 200
CHUNK = 5_000
PAGES = ("queue", "queue: new", "request", "customer list")
MAX_STATEMENTS = 8
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
#: The mix of states: new requests fill a page at 100 requests (30 of them), and the
#: finished ones are many, as at a real desk.
STATES = (
    *[RequestState.NEW] * 6,
    *[RequestState.ACKNOWLEDGED] * 2,
    *[RequestState.IN_PROGRESS] * 2,
    *[RequestState.WAITING] * 2,
    *[RequestState.RESOLVED] * 2,
    *[RequestState.CLOSED] * 4,
    RequestState.REFUSED,
    RequestState.DUPLICATE,
)
KINDS = (
    RequestKind.MALFUNCTION,
    RequestKind.HELP,
    RequestKind.MALFUNCTION,
    RequestKind.IMPROVEMENT,
)


def request_row(tenant_id: int, index: int, clients: list[int]) -> dict:
    """The ``index``-th generated request: derived from the index alone."""
    kind = KINDS[index % len(KINDS)]
    state = STATES[index % len(STATES)]
    priority = (
        list(Priority)[index // 7 % 4]
        if kind is RequestKind.MALFUNCTION and state is not RequestState.NEW
        else None
    )
    created = EPOCH + timedelta(minutes=10 * index)
    return {
        "tenant_id": tenant_id,
        "year": created.year,
        "number": index + 1,
        "kind": kind,
        "subject": f"Request {index + 1}: invoices do not print",
        "description": "Since the update, the Print button does nothing.",
        "client_id": clients[0] if index % 3 == 0 else clients[1 + index % (len(clients) - 1)],
        "state": state,
        "priority": priority,
        "priority_rank": priority.rank if priority else UNRANKED,
        "blocking": False,
        "accepted_for_everyone": False,
        "minutes_normal": 0,
        "minutes_free": 0,
        "created_at": created,
        "updated_at": created + timedelta(hours=index % 48),
    }


def load(size: int) -> tuple[int, str]:
    """Both tenants with their clients and ``size`` requests each; the first tenant's
    customer signs in later. Returns a request of that customer and the customer's login.

    Deliberately cross-tenant, like a CLI import: Core inserts on the session's
    connection, which the ORM's tenancy hooks never see, so every row sets its tenant."""
    postgresql = db.engine.dialect.name == "postgresql"
    if postgresql:
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
    password_hash = generate_password_hash(PASSWORD)
    connection = db.session.connection()
    known = None
    for slug, name in TENANTS:
        tenant = create_tenant(slug, name, administrators_two_factor=False)
        with bound_to(db.session, tenant.id):
            admin = create_staff_user(
                email=f"admin@{slug}.test",
                name=f"{name} Admin",
                password=None,
                role=system_role(SystemRole.ADMINISTRATOR),
            )
            admin.password_hash, admin.status = password_hash, UserStatus.ACTIVE
            db.session.flush()
        clients = (
            connection.execute(
                insert(Client).returning(Client.id, sort_by_parameter_order=True),
                [
                    {"tenant_id": tenant.id, "code": str(1000 + i), "name": f"Client {i}"}
                    for i in range(CLIENTS)
                ],
            )
            .scalars()
            .all()
        )
        ids: list[int] = []
        for start in range(0, size, CHUNK):
            rows = [
                request_row(tenant.id, i, clients) for i in range(start, min(start + CHUNK, size))
            ]
            ids += (
                connection.execute(
                    insert(SupportRequest).returning(
                        SupportRequest.id, sort_by_parameter_order=True
                    ),
                    rows,
                )
                .scalars()
                .all()
            )
        years = {row_year for row_year in range(EPOCH.year, EPOCH.year + 3)}
        connection.execute(
            insert(RequestCounter),
            [{"tenant_id": tenant.id, "year": year, "last_number": size} for year in years],
        )
        if known is None:
            with bound_to(db.session, tenant.id):
                contact = Contact(
                    client_id=clients[0], name="Joseph Customer", email="joseph@example.com"
                )
                db.session.add(contact)
                db.session.flush()
                client_user(contact, "CUST1", password_hash)
                db.session.flush()
            known = ids[size // 2 // 3 * 3]  # one of the customer's, in the middle
    db.session.commit()
    if postgresql:
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return known, "joseph@example.com"


def check(response, url: str, expected: str) -> None:
    if response.status_code != 200 or expected not in response.get_data(as_text=True):
        raise SystemExit(f"GET {url}: status {response.status_code}, expected {expected!r}.")


def pages_of(known: tuple[int, str]) -> list[tuple[str, str, str, str]]:
    """(page, who signs in, url, a text the page must hold) for each page measured."""
    slug = TENANTS[0][0]
    request_id, customer_login = known
    staff = f"admin@{slug}.test"
    return [
        ("queue", staff, f"/{slug}/desk/", "<tbody>"),
        ("queue: new", staff, f"/{slug}/desk/?state=new", "<tbody>"),
        ("request", staff, f"/{slug}/desk/{request_id}", "invoices do not print"),
        ("customer list", customer_login, f"/{slug}/requests/?show=all", "<tbody>"),
    ]


def measure(kind: str, sizes: list[int], options: argparse.Namespace):
    """Load every size, each in its own database, then time the pages in turns: one
    request of each size after the other, so that a change of the machine's speed
    during the run (it is shared) weighs on every size alike, and the ratio is one run's."""
    slug = TENANTS[0][0]
    with ExitStack() as stack:
        loads, visits = {}, []
        for size in sizes:
            print(f"{kind}: 2 tenants x {size:,} requests...", file=sys.stderr, flush=True)
            app, loads[size], known = stack.enter_context(
                loaded(kind, options.postgres_url, partial(load, size))
            )
            app.test_client_class = IsolatedClient
            with app.app_context():
                counter = StatementCounter(db.engine)
            browsers = {}
            for page, login, url, expected in pages_of(known):
                if login not in browsers:
                    browsers[login] = app.test_client()
                    sign_in(browsers[login], slug, login)
                visits.append((Measure(page, size), browsers[login], url, expected, counter))
        for _ in range(options.warmups):
            for _, browser, url, expected, _ in visits:
                check(browser.get(url), url, expected)
        for _ in range(options.repeat):
            for result, browser, url, expected, counter in sorted(
                visits, key=lambda visit: PAGES.index(visit[0].page)
            ):
                counter.count, counter.counting = 0, True
                start = time.perf_counter()
                response = browser.get(url)
                result.milliseconds.append((time.perf_counter() - start) * 1000)
                counter.counting = False
                result.statements.append(counter.count)
                check(response, url, expected)
        return loads, [visit[0] for visit in visits]


def main() -> None:
    options, kinds, sizes = parse_options(
        __doc__.split("\n\n")[0], "comma-separated requests per tenant"
    )
    for kind in kinds:
        loads, results = measure(kind, sizes, options)
        report_sizes(kind, "requests", loads, results, PAGES, max_statements=MAX_STATEMENTS)


if __name__ == "__main__":
    main()
