"""Benchmark of the customer statement (issue 7): does an account with 100,000 ledger
entries answer as fast as one with 100, with the same SQL statements per request, and
does its CSV export stream in flat memory?

For each database it builds a fresh database with the migrations, one tenant whose
client uses two credit accounts, one with 100 entries and one with 100,000 (both in the
same table, so only the account's own size differs), signs in as the client's user and
times, through the Flask test client: the statement's first page, a page in the middle
of the history (keyset pagination) and the CSV export, whose body is read chunk by chunk
as a server would send it, with the peak Python memory of the request.

    .venv/bin/python bench/statement.py --databases sqlite,postgresql --sizes 100,100000
"""

import argparse
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

from common import (
    PASSWORD,
    TARGET_RATIO,
    IsolatedClient,
    Measure,
    StatementCounter,
    client_user,
    loaded,
    parse_options,
    print_table,
    ratio_row,
    same_statements,
    sign_in,
)
from flask import Flask
from sqlalchemy import insert, select, text
from werkzeug.security import generate_password_hash

from portal.extensions import db
from portal.models import (
    Billing,
    Client,
    Contact,
    CreditAccount,
    CreditAccountClient,
    EntryKind,
    LedgerEntry,
    User,
)
from portal.services import credit
from portal.services.tenants import create_staff_user, create_tenant, role_named
from portal.tenancy import bound_to

CHUNK = 5_000
EPOCH = datetime(2015, 1, 1, tzinfo=UTC)
PAGES = ("first page", "middle page", "csv")
#: The CSV's peak memory for the large account may exceed the small one's by this much
#: and still count as flat: buffers of a few chunks, not the ledger.
FLAT_MEMORY_KIB = 2_048


# --- Data --------------------------------------------------------------------------------


def entry_rows(tenant_id: int, account_id: int, client_id: int, technician_id: int, size: int):
    """``size`` ledger rows with a consistent chain, in chunks: every tenth a purchase of
    an hour, every seventh intervention free, the others 5 to 29 minutes."""
    balance = normal = free = 0
    chunk = []
    for index in range(size):
        position = index + 1
        if index % 10 == 0:
            kind, billing, minutes, delta = EntryKind.PURCHASE, None, 60, 60
        else:
            minutes = 5 + index % 25
            kind = EntryKind.INTERVENTION
            billing = Billing.FREE if index % 7 == 0 else Billing.NORMAL
            delta = 0 if billing is Billing.FREE else -minutes
            normal += minutes if billing is Billing.NORMAL else 0
            free += minutes if billing is Billing.FREE else 0
        chunk.append(
            {
                "tenant_id": tenant_id,
                "account_id": account_id,
                "position": position,
                "kind": kind,
                "billing": billing,
                "minutes": minutes,
                "delta": delta,
                "credit_before": balance,
                "credit_after": balance + delta,
                "cumulative_normal": normal,
                "cumulative_free": free,
                "summary": f"Intervention {position}: réglage de la messagerie et des sauvegardes",
                "advice": "Sauvegardez chaque semaine." if index % 3 == 0 else None,
                "review_invited": False,
                "technician_id": technician_id,
                "client_id": client_id,
                "created_at": EPOCH + timedelta(hours=index),
            }
        )
        balance += delta
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def add_account(
    tenant_id: int, client: Client, technician: User, customer_id: str, size: int
) -> int:
    """An account of ``size`` entries, bulk-loaded with SQLAlchemy Core on the session's
    connection: deliberately written like a CLI import, with ``tenant_id`` on every row."""
    account = CreditAccount(customer_id=customer_id, billing_client_id=client.id)
    account.links.append(CreditAccountClient(client_id=client.id))
    db.session.add(account)
    db.session.flush()
    connection = db.session.connection()
    for rows in entry_rows(tenant_id, account.id, client.id, technician.id, size):
        connection.execute(insert(LedgerEntry), rows)
        last = rows[-1]
    interventions = select(LedgerEntry.created_at).where(
        LedgerEntry.account_id == account.id, LedgerEntry.kind == EntryKind.INTERVENTION
    )
    account.entry_count, account.balance_minutes = last["position"], last["credit_after"]
    account.cumulative_normal = last["cumulative_normal"]
    account.cumulative_free = last["cumulative_free"]
    account.first_intervention_at = db.session.scalar(
        interventions.order_by(LedgerEntry.position).limit(1)
    )
    account.last_intervention_at = db.session.scalar(
        interventions.order_by(LedgerEntry.position.desc()).limit(1)
    )
    return account.id


def load(sizes: list[int]) -> dict[int, int]:
    """The tenant, its client user and one account per size; return account ids by size."""
    tenant = create_tenant("alpha", "Alpha Services", administrators_two_factor=False)
    with bound_to(db.session, tenant.id):
        technician = create_staff_user(
            email="tech@alpha.test",
            name="Alpha Tech",
            password=None,
            role=role_named("Technician"),
            initials="ATE",
        )
        client = Client(code="C1", name="Client One Ltd", billing_country="CA")
        db.session.add(client)
        db.session.flush()
        contact = Contact(client_id=client.id, name="Client Contact", email="contact@c1.test")
        db.session.add(contact)
        db.session.flush()
        client_user(contact, "C11", generate_password_hash(PASSWORD))
        accounts = {
            size: add_account(tenant.id, client, technician, f"A{size}", size) for size in sizes
        }
        db.session.commit()
        breaks = credit.verify(db.session)
    if breaks:
        raise SystemExit(f"The generated ledger is broken: {breaks[0]}")
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return accounts


# --- Measuring ---------------------------------------------------------------------------


def read_streamed(client, url: str) -> tuple[int, int]:
    """GET ``url`` and read its body chunk by chunk in the request's context, as a server
    would; return the status and the number of bytes."""
    response = client.get(url, buffered=False)

    def drain() -> int:
        size = sum(len(chunk) for chunk in response.response)
        response.close()
        return size

    return response.status_code, response.context.run(drain)


def fetch(client, request: str, url: str) -> int:
    """GET ``url`` as a browser would (the CSV read chunk by chunk); stop the benchmark
    unless it answers 200 with what it should."""
    if request == "csv":
        status, length = read_streamed(client, url)
        ok = status == 200
    else:
        response = client.get(url)
        status, length = response.status_code, len(response.data)
        ok = status == 200 and "Credit after" in response.text
    if not ok:
        raise SystemExit(f"GET {url}: status {status}")
    return length


def measure(app: Flask, accounts: dict[int, int], warmups: int, repeat: int):
    """Time every request at every size in rounds, each round in a new order, so that
    the machine's drifts weigh on both sizes alike and the ratios compare like with like."""
    app.test_client_class = IsolatedClient
    client = app.test_client()
    sign_in(client, "alpha", "contact@c1.test")
    counter = StatementCounter(db.engine)
    requests = []
    for size, account_id in accounts.items():
        base = f"/alpha/statement/{account_id}"
        requests += [
            (Measure("first page", size), base),
            (Measure("middle page", size), f"{base}?before={size // 2 + 1}"),
            (Measure("csv", size), f"{base}.csv"),
        ]
    for number in range(warmups + repeat):
        shift = number % len(requests)
        for result, url in requests[shift:] + requests[:shift]:
            counter.count, counter.counting = 0, True
            start = time.perf_counter()
            fetch(client, result.page, url)
            elapsed = (time.perf_counter() - start) * 1000
            counter.counting = False
            if number >= warmups:
                result.milliseconds.append(elapsed)
                result.statements.append(counter.count)
    memory = {}
    for result, url in requests:
        if result.page == "csv":
            tracemalloc.start()
            length = fetch(client, "csv", url)
            memory[result.size] = (tracemalloc.get_traced_memory()[1] / 1024, length)
            tracemalloc.stop()
    return [result for result, _url in requests], memory


def run(kind: str, sizes: list[int], options: argparse.Namespace):
    print(
        f"{kind}: accounts of {', '.join(f'{size:,}' for size in sizes)} entries...",
        file=sys.stderr,
        flush=True,
    )
    with loaded(kind, options.postgres_url, lambda: load(sizes)) as (app, load_seconds, accounts):
        results, memory = measure(app, accounts, options.warmups, options.repeat)
    return load_seconds, results, memory


# --- Report ------------------------------------------------------------------------------


def report(
    kind: str,
    sizes: list[int],
    load_seconds: float,
    results: list[Measure],
    memory: dict[int, tuple[float, int]],
) -> None:
    title = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[kind]
    print(f"\n== {title} ==\n")
    print(f"load: {sum(sizes):,} ledger entries in {load_seconds:.1f} s\n")
    print_table(
        ("request", "entries", "median ms", "p95 ms", "statements"),
        [
            (r.page, f"{r.size:,}", f"{r.median:.1f}", f"{r.p95:.1f}", r.statement_label)
            for r in sorted(results, key=lambda r: (PAGES.index(r.page), r.size))
        ],
    )
    csv_times = {r.size: r.median for r in results if r.page == "csv"}
    print()
    print_table(
        ("csv", "entries", "bytes", "rows/s", "peak KiB"),
        [
            (
                "csv",
                f"{size:,}",
                f"{memory[size][1]:,}",
                f"{size / csv_times[size] * 1000:,.0f}",
                f"{memory[size][0]:,.0f}",
            )
            for size in sizes
        ],
    )
    small, large = min(sizes), max(sizes)
    if small == large:
        return
    by_key = {(r.page, r.size): r for r in results}
    print(f"\n{large:,} vs {small:,} entries\n")
    rows = [ratio_row(page, by_key[page, small], by_key[page, large]) for page in PAGES[:2]]
    csv_low, csv_high = by_key["csv", small], by_key["csv", large]
    growth = memory[large][0] - memory[small][0]
    rows.append(
        (
            "csv memory",
            f"+{growth:,.0f} KiB",
            "flat" if growth <= FLAT_MEMORY_KIB else "NO, GROWS",
            f"{csv_low.statement_label} vs {csv_high.statement_label}",
            "yes" if same_statements(csv_low, csv_high) else "NO, GROWS",
        )
    )
    print_table(("request", "median ratio", f"<= {TARGET_RATIO}?", "statements", "constant?"), rows)


def main() -> None:
    options, kinds, sizes = parse_options(__doc__.split("\n\n")[0], "comma-separated entries")
    for kind in kinds:
        report(kind, sizes, *run(kind, sizes, options))


if __name__ == "__main__":
    main()
