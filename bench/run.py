"""Load benchmark (issues 10 and 23): Portal under gunicorn against the floor, in one run.

It loads a throwaway PostgreSQL database with three tenants, 100,000 clients, 300,000
contacts, 1,000 credit accounts and 1,000,000 ledger entries (one account holding
100,000), 100,000 support requests and two chat channels of 100 and 100,000 messages
with COPY; counts the SQL statements of every signed-in page in process; serves Portal
with gunicorn.conf.py (2 workers) beside the floor (bench/floor.py: Flask "hello", the
statement page's own SQL replayed through the raw driver, and the CSV export's rows
straight from COPY) under the same settings; then drives each page with wrk for a fixed
number of requests, in rounds, and prints the medians: requests per second, latency,
statements per request, worker memory, Portal's rate as a ratio of its floor, and the
target of each line with whether it holds. Recording an intervention is measured with
the outbox worker sending to a live SMTP server and to one that never answers.

    .venv/bin/python bench/run.py                        # the whole run, about 15 minutes
    .venv/bin/python bench/run.py --scale 0.05 --rounds 1 --requests 100   # a quick try
"""

import argparse
import http.client
import http.cookiejar
import json
import os
import pickle
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dataset
import redis
from common import (
    CSRF_PATTERN,
    DEFAULT_POSTGRES_URL,
    PASSWORD,
    TARGET_RATIO,
    IsolatedClient,
    StatementCounter,
    code_state,
    free_port,
    fresh_database,
    make_app,
    print_table,
    process,
    production_env,
    serve,
    sign_in,
    statement_label,
)
from flask_migrate import upgrade
from sqlalchemy import and_, create_engine, event, func, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url

from portal.config import database_url
from portal.extensions import db
from portal.models import CreditAccount, LedgerEntry, MailState, OutboxMail, User

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORKERS = 2
#: Targets of the issue: a signed-in page's rate as a share of the raw-SQL floor's.
STATEMENT_RATIO, ACCOUNT_RATIO, PAGE_RATIO = 0.5, 0.4, 0.3
FLOOR_TARGETS = {
    STATEMENT_RATIO: "statement pages",
    ACCOUNT_RATIO: "account pages",
    PAGE_RATIO: "other signed-in pages",
}
MIN_CSV_ROWS_PER_SECOND = 100_000
MAX_STATEMENTS = 8
MAX_RSS_MB = 100
SMTP_RATIO = 0.9
#: Most requests a round drives the chat's live endpoint with: under its limit of 240
#: polls a minute per user, with the few the run adds (its check, its held query).
LIVE_MOST = 200
#: The floor's lines, served by bench/floor.py.
SQL_FLOOR, COPY_FLOOR, HELLO = (
    "floor: statement SQL",
    "floor: CSV COPY, 100,000",
    "floor: Flask hello",
)
#: How a line's ratio names a floor other than the raw-SQL one.
FLOOR_SHORT_NAMES = {COPY_FLOOR: "COPY"}
#: Pairs of lines, at 100 and 100,000 rows, whose statements must be the same...
CONSTANT_PAIRS = ("account page", "statement", "CSV export", "chat channel")
#: ... and whose 100,000-row page must take at most TARGET_RATIO times the 100-row one.
SIZE_PAIRS = ("account page", "statement", "chat channel")
#: The statement page's history starts its deep page here, near the oldest entries.
DEEP_BEFORE = 1_000


@dataclass(frozen=True)
class Page:
    """One line of the table: a request driven by wrk."""

    name: str
    path: str
    #: Who is signed in: None, "tech" or "client".
    user: str | None = None
    method: str = "GET"
    #: Requests per round, as a share of --requests.
    weight: float = 1.0
    #: The floor's pages are served by bench/floor.py.
    floor: bool = False
    #: For a POST: the outbox worker's SMTP server, "up" or "black-holed".
    smtp: str | None = None
    #: The least rate as a share of its floor's (None: no such target).
    minimum: float | None = PAGE_RATIO
    #: The floor's line its rate is compared with.
    floor_name: str = SQL_FLOOR
    #: Rows per answer, for the page whose target is rows a second (the long CSV export).
    rows: int = 0
    #: The chat's live endpoint: before each drive its query takes the digests and the
    #: sequence number its first answer gave, as static/chat.js holds them, so that it
    #: answers as an open page is answered when nothing changed. It allows a user 240
    #: polls a minute (portal/chat/views.py): its rate-limit counters start from zero
    #: before each drive, which stays under LIVE_MOST requests.
    live: bool = False

    @property
    def status(self) -> int:
        """What the page answers when it works: 204 (nothing new) for live updates."""
        return 204 if self.live else 200


@dataclass
class Figures:
    """A page's figures, one per round."""

    requests: list[int] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    medians: list[float] = field(default_factory=list)
    p95s: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)
    bad: int = 0
    statements: list[int] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return statistics.median(self.rates)

    @property
    def statement_label(self) -> str:
        return statement_label(self.statements)


def pages(loaded: dataset.Loaded) -> list[Page]:
    slug, large, small = loaded.slug, loaded.large_account_id, loaded.small_account_id
    statement, account = f"/{slug}/statement", f"/{slug}/support/accounts"
    chat, request = f"/{slug}/chat", loaded.request_id
    record = record_path(loaded)
    return [
        Page("sign-in page", f"/{slug}/login", minimum=None),
        Page("home page, staff", f"/{slug}/", "tech"),
        Page("home page, client", f"/{slug}/", "client"),
        Page("client list", f"/{slug}/clients/", "tech"),
        Page("client search", f"/{slug}/clients/?q={loaded.search}", "tech"),
        Page("client page", f"/{slug}/clients/{loaded.known_client_id}", "tech"),
        Page("account page, 100", f"{account}/{small}", "tech", minimum=ACCOUNT_RATIO),
        Page("account page, 100,000", f"{account}/{large}", "tech", minimum=ACCOUNT_RATIO),
        Page("statement, 100", f"{statement}/{small}", "client", minimum=STATEMENT_RATIO),
        Page("statement, 100,000", f"{statement}/{large}", "client", minimum=STATEMENT_RATIO),
        Page(
            "statement, deep page",
            f"{statement}/{large}?before={DEEP_BEFORE}",
            "client",
            minimum=STATEMENT_RATIO,
        ),
        Page("CSV export, 100", f"{statement}/{small}.csv", "client"),
        Page(
            "CSV export, 100,000",
            f"{statement}/{large}.csv",
            "client",
            weight=0.02,
            minimum=None,
            floor_name=COPY_FLOOR,
            rows=dataset.LARGE_ENTRIES,
        ),
        Page("desk queue", f"/{slug}/desk/", "tech"),
        Page("desk: request page", f"/{slug}/desk/{request}", "tech"),
        Page("customer: request list", f"/{slug}/requests/", "client"),
        Page("customer: request page", f"/{slug}/requests/{request}", "client"),
        Page("chat channel, 100", f"{chat}/{loaded.small_channel_id}", "tech"),
        Page("chat channel, 100,000", f"{chat}/{loaded.large_channel_id}", "tech"),
        Page("chat live updates", first_updates_path(loaded), "tech", live=True),
        Page("record, SMTP up", record, "tech", "POST", smtp="up", minimum=None),
        Page("record, SMTP black-holed", record, "tech", "POST", smtp="black-holed", minimum=None),
        Page(SQL_FLOOR, "/statement", weight=4, floor=True),
        Page(COPY_FLOOR, "/copy", weight=0.1, floor=True),
        Page(HELLO, "/hello", weight=10, floor=True),
    ]


def first_updates_path(loaded: dataset.Loaded) -> str:
    """The chat's live endpoint on the long channel's page, asked by a page that holds
    nothing yet (no digests, ``after=0``), its user active as one reading it is; its
    answer gives what the page holds from then on (``holding``)."""
    query = {
        "channel": loaded.large_channel_id,
        "marks": "",
        "active": "1",
        "people": "",
        "after": "0",
    }
    return f"/{loaded.slug}/chat/updates?{urllib.parse.urlencode(query)}"


def holding(path: str, answer: dict) -> str:
    """The live endpoint's ``path`` asked again by a page that holds what ``answer``
    sent: the digests of its channel list and of the members, and the channel's
    sequence number. Until something changes, that is answered 204."""
    url = urllib.parse.urlsplit(path)
    query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
    query.update(marks=answer["marks"], people=answer["people_digest"], after=answer["after"])
    return f"{url.path}?{urllib.parse.urlencode(query)}"


def csv_copy_sql(account_id: int) -> str:
    """``COPY`` of what the CSV export reads for ``account_id`` (csv_chunks in
    portal/services/statement.py): the same rows and columns in the same order, as CSV."""
    rows = (
        select(
            LedgerEntry.created_at,
            LedgerEntry.kind,
            LedgerEntry.summary,
            LedgerEntry.advice,
            User.name,
            LedgerEntry.minutes,
            LedgerEntry.billing,
            LedgerEntry.credit_before,
            LedgerEntry.credit_after,
        )
        .outerjoin(
            User,
            and_(User.id == LedgerEntry.technician_id, User.tenant_id == LedgerEntry.tenant_id),
        )
        .where(LedgerEntry.account_id == account_id)
        .order_by(LedgerEntry.position)
    )
    query = rows.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    return f"COPY ({query}) TO STDOUT WITH (FORMAT csv)"


def record_path(loaded: dataset.Loaded) -> str:
    return f"/{loaded.slug}/support/accounts/{loaded.record_account_id}/interventions"


def record_form(loaded: dataset.Loaded, csrf_token: str) -> dict[str, str]:
    return {
        "csrf_token": csrf_token,
        "summary": "Benchmark: mailbox quota raised",
        "minutes": "1",
        "client_id": str(loaded.record_client_id),
        "normal": "Normal",
    }


# --- Machine -----------------------------------------------------------------------------


def ensure_wrk() -> str:
    """wrk from Debian, installed on first use where we may (as .ci/run installs Chromium)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise SystemExit("wrk is missing: install Debian's package (sudo apt-get install wrk).")
    print("installing wrk (apt-get install wrk)...", file=sys.stderr, flush=True)
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)  # noqa: S603
    return shutil.which("wrk") or sys.exit("wrk did not install")


def libpq_url(uri: str) -> str:
    """The database's URL as the raw driver takes it (no SQLAlchemy driver name)."""
    return make_url(uri).set(drivername="postgresql").render_as_string(hide_password=False)


def workers_rss_mb(master: subprocess.Popen) -> float:
    """The largest resident memory of gunicorn's workers, in MB."""
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    sizes = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return max(sizes)


@contextmanager
def black_hole() -> Iterator[int]:
    """An SMTP port that takes connections and never says a word, as a server whose
    network drops everything would: the outbox worker hangs on it."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1000)
        yield server.getsockname()[1]


# --- In process: statements per request, and the statement page's SQL --------------------


def count_statements(uri: str, loaded: dataset.Loaded, page_list: list[Page], floor_sql: Path):
    """Each page's SQL statements per request, counted in process on the same database;
    and the statement page's statements saved for the floor to replay."""
    app = make_app(uri)
    counts: dict[str, list[int]] = {}
    with app.app_context():
        counter = StatementCounter(db.engine)
        captured: list[tuple[str, object]] = []

        @event.listens_for(db.engine, "before_cursor_execute")
        def capture(connection, cursor, statement, parameters, context, executemany):
            if counter.counting:
                captured.append((statement, parameters))

        app.test_client_class = IsolatedClient
        clients = {None: app.test_client(), "tech": app.test_client(), "client": app.test_client()}
        sign_in(clients["tech"], loaded.slug, f"tech@{loaded.slug}.test")
        sign_in(clients["client"], loaded.slug, loaded.client_login)
        for page in page_list:
            if page.floor:
                continue
            client = clients[page.user]
            path = holding(page.path, client.get(page.path).get_json()) if page.live else page.path
            # A GET answers what it answers in the run; a recording redirects.
            expected = (page.status,) if page.method == "GET" else (302,)
            counts[page.name] = []
            # Two warm-ups, then ten counted; three counted for a page of seconds.
            warmups, counted = (2, 10) if page.weight >= 0.1 else (0, 3)
            for number in range(warmups + counted):
                data = None
                if page.method == "POST":
                    account = client.get(path.rsplit("/", 1)[0]).get_data(as_text=True)
                    data = record_form(loaded, CSRF_PATTERN.search(account).group(1))
                captured.clear()
                counter.count, counter.counting = 0, True
                response = client.open(path, method=page.method, data=data, buffered=False)
                response.context.run(
                    lambda response=response: (response.get_data(), response.close())
                )
                counter.counting = False
                if response.status_code not in expected:
                    raise SystemExit(
                        f"{page.name}: {page.method} {path} answered {response.status_code} "
                        f"in process, not {' or '.join(map(str, expected))}"
                    )
                if number >= warmups:
                    counts[page.name].append(counter.count)
            if page.name == "statement, 100,000":
                reads = [
                    (sql, params)
                    for sql, params in captured
                    if sql.lstrip().upper().startswith("SELECT")
                ]
                floor_sql.write_bytes(pickle.dumps(reads))
        db.session.remove()
        db.engine.dispose()
    return counts


# --- Serving and driving -----------------------------------------------------------------


def http_session(base: str, slug: str, login: str) -> http.cookiejar.CookieJar:
    """Sign in over HTTP, as a browser would; return the cookies."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/{slug}/login").read().decode()
    form = {"csrf_token": CSRF_PATTERN.search(page).group(1), "login": login, "password": PASSWORD}
    opener.open(f"{base}/{slug}/login", urllib.parse.urlencode(form).encode())
    jar.opener = opener
    return jar


def cookie_header(jar: http.cookiejar.CookieJar) -> str:
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


def get(port: int, path: str, cookie: str) -> tuple[int, bytes]:
    """One GET to the local ``port`` with the session's cookie: (status, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    response = connection.getresponse()
    answer = response.status, response.read()
    connection.close()
    return answer


def drive(wrk: str, url: str, requests: int, connections: int, env: dict) -> dict:
    """wrk on ``url`` until ``requests`` answers; its figures."""
    command = [
        wrk,
        "-t1",
        f"-c{connections}",
        "-d600s",
        "--timeout",
        "60s",
        "-s",
        str(BENCH / "wrk.lua"),
        url,
    ]
    env = {**os.environ, **env, "BENCH_REQUESTS": str(requests)}
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as wrk_run:  # noqa: S603
        for line in wrk_run.stdout:
            if line.strip() == "stopped":
                wrk_run.send_signal(signal.SIGINT)
                break
        output = wrk_run.stdout.read()
    return json.loads(output.strip().splitlines()[-1])


class Bench:
    """The servers of one run, and how to drive each page."""

    def __init__(self, options, uri: str, loaded: dataset.Loaded, folder: Path, stack: ExitStack):
        self.options, self.loaded, self.folder, self.stack = options, loaded, folder, stack
        self.wrk = ensure_wrk()
        self.portal_port, self.floor_port, self.smtp_port = free_port(), free_port(), free_port()
        self.hole_port = stack.enter_context(black_hole())
        self.env = production_env(uri, self.portal_port, WORKERS)
        self.outbox_worker = None
        # Pinged before use: the machine's PostgreSQL may be restarted meanwhile (the
        # test suite does it, and the machine may be shared).
        self.database = create_engine(database_url(uri), pool_pre_ping=True)
        stack.callback(self.database.dispose)
        self.profiles: dict[str, Path] = {}

    def gunicorn(self, app: str, port: int, cwd: Path, log: str, env: dict) -> subprocess.Popen:
        return serve(
            self.stack,
            self.folder,
            app,
            port,
            cwd,
            log,
            {**self.env, **env},
            "/healthz" if log == "portal" else "/hello",
        )

    def start(self, floor_sql: Path, copy_sql: str) -> None:
        smtp = [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{self.smtp_port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ]
        self.stack.enter_context(process(smtp, self.folder / "smtp.log", ROOT, self.env))
        self.portal = self.gunicorn("wsgi:app", self.portal_port, ROOT, "portal", {})
        self.floor = self.gunicorn(
            "floor:app",
            self.floor_port,
            BENCH,
            "floor",
            {
                "BENCH_FLOOR_SQL": str(floor_sql),
                "BENCH_FLOOR_COPY": copy_sql,
                "BENCH_FLOOR_DATABASE": libpq_url(self.env["DATABASE_URL"]),
            },
        )
        base = f"http://127.0.0.1:{self.portal_port}"
        self.cookies = {
            None: "",
            "tech": http_session(base, self.loaded.slug, f"tech@{self.loaded.slug}.test"),
            "client": http_session(base, self.loaded.slug, self.loaded.client_login),
        }
        tech = self.cookies["tech"]
        account = (
            tech.opener.open(
                f"{base}/{self.loaded.slug}/support/accounts/{self.loaded.record_account_id}"
            )
            .read()
            .decode()
        )
        self.record_body = urllib.parse.urlencode(
            record_form(self.loaded, CSRF_PATTERN.search(account).group(1))
        )

    def smtp(self, mode: str) -> None:
        """Run the outbox worker against the live SMTP server or the black hole."""
        if self.outbox_worker is not None:
            self.outbox_worker.close()
        self.outbox_worker = ExitStack()
        port = self.smtp_port if mode == "up" else self.hole_port
        command = [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "portal",
            "outbox",
            "work",
            "--interval",
            "0.5",
        ]
        self.outbox_worker.enter_context(
            process(
                command,
                self.folder / f"outbox-{mode}.log",
                ROOT,
                {**self.env, "MAIL_PORT": str(port)},
            )
        )
        self.stack.callback(self.outbox_worker.close)

    def run(self, page: Page, requests: int, profile: bool) -> tuple[dict, float]:
        if page.smtp:
            self.smtp(page.smtp)
        port = self.floor_port if page.floor else self.portal_port
        jar = self.cookies[page.user]
        cookie = cookie_header(jar) if jar else ""
        env = {"BENCH_METHOD": page.method, "BENCH_COOKIE": cookie}
        if page.method == "POST":
            env["BENCH_BODY"] = self.record_body
        server = self.floor if page.floor else self.portal
        if page.live:
            self.reset_rate_limits()
        path = self.held_path(page, cookie) if page.live else page.path
        url = f"http://127.0.0.1:{port}{path}"
        if page.method == "GET":
            self.check_answer(port, page, path, cookie)
        written = self.recorded()
        with self.profiled(page, server) if profile else ExitStack():
            figures = drive(self.wrk, url, requests, self.options.connections, env)
        if page.method == "POST":
            # Every answer counted must be a recording made (wrk may leave a few more in
            # flight when it stops), not a redirect to the sign-in page.
            written = self.recorded() - written
            answered = figures["requests"]
            if not answered <= written <= answered + self.options.connections:
                raise SystemExit(f"{page.name}: {answered} answers but {written} recordings")
        return figures, workers_rss_mb(server)

    def reset_rate_limits(self) -> None:
        """Empty the rate limits' counters (the run's own Redis database; with none, the
        workers count in their memory, per worker, and LIVE_MOST keeps under the limit)."""
        storage = self.env["RATELIMIT_STORAGE_URI"]
        if storage.startswith("redis://"):
            with redis.Redis.from_url(storage) as counters:
                counters.flushdb()

    def check_answer(self, port: int, page: Page, path: str, cookie: str) -> None:
        """The page answers this session as it does when it works (200; 204 for live
        updates with nothing new), not with a redirect to the sign-in page, so that wrk
        measures the page itself."""
        status, _body = get(port, path, cookie)
        if status != page.status:
            raise SystemExit(f"{page.name}: GET {path} answered {status}, not {page.status}")

    def held_path(self, page: Page, cookie: str) -> str:
        """The live endpoint's query holding what its first answer sends now (what the
        other pages did meanwhile, as opening a channel, may have changed it)."""
        status, body = get(self.portal_port, page.path, cookie)
        if status != 200:
            raise SystemExit(f"{page.name}: GET {page.path} answered {status}, not 200")
        return holding(page.path, json.loads(body))

    def recorded(self) -> int:
        """Entries in the account the recordings go to (read across tenants, by id)."""
        with self.database.connect() as connection:
            return connection.scalar(
                select(CreditAccount.entry_count).where(
                    CreditAccount.id == self.loaded.record_account_id
                )
            )

    @contextmanager
    def profiled(self, page: Page, server: subprocess.Popen) -> Iterator[None]:
        """py-spy on the workers while ``page`` is driven, when --profile names it, once:
        the collapsed stacks go to the logs, summed up by bench/profile_report.py."""
        if page.name not in self.options.profile or page.name in self.profiles:
            yield
            return
        name = page.name.replace(", ", "_").replace(",", "").replace(" ", "_")
        self.profiles[page.name] = output = self.folder / f"profile-{name}.txt"
        spy = str(Path(sys.executable).parent / "py-spy")
        command = [spy, "record", "--pid", str(server.pid), "--subprocesses", "--nonblocking"]
        command += ["--rate", "250", "--format", "raw", "--output", str(output)]
        recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603
        time.sleep(1)  # py-spy attaches
        try:
            yield
        finally:
            recorder.send_signal(signal.SIGINT)
            recorder.wait(timeout=60)


# --- The run -----------------------------------------------------------------------------


def load_database(options, uri: str) -> dataset.Loaded:
    app = make_app(uri)
    with app.app_context():
        upgrade()
        sizes = dataset.Sizes().scaled(options.scale)
        print(
            f"loading {sizes.clients:,} clients, {sizes.accounts:,} accounts, "
            f"{sizes.entries:,} ledger entries...",
            file=sys.stderr,
            flush=True,
        )
        start = time.perf_counter()
        loaded = dataset.load(sizes)
        loaded.counts["seconds"] = round(time.perf_counter() - start)
        db.session.remove()
        db.engine.dispose()
    # Autovacuum would set the visibility map and the statistics after a while; a
    # benchmark cannot wait for it.
    engine = create_engine(database_url(uri), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        start = time.perf_counter()
        connection.execute(text("VACUUM (ANALYZE)"))
        loaded.counts["vacuum seconds"] = round(time.perf_counter() - start)
    engine.dispose()
    return loaded


def measure(options, uri: str, loaded: dataset.Loaded) -> dict[str, Figures]:
    page_list = pages(loaded)
    results = {page.name: Figures() for page in page_list}
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as folder, ExitStack() as stack:
        folder = Path(folder)
        floor_sql = folder / "statement.pickle"
        print("counting statements in process...", file=sys.stderr, flush=True)
        for name, counts in count_statements(uri, loaded, page_list, floor_sql).items():
            results[name].statements = counts
        bench = Bench(options, uri, loaded, folder, stack)
        bench.start(floor_sql, csv_copy_sql(loaded.large_account_id))
        for number in range(options.rounds + 1):
            warm_up = number == 0
            print(
                "warming up..." if warm_up else f"round {number} of {options.rounds}...",
                file=sys.stderr,
                flush=True,
            )
            order = page_list if number % 2 else page_list[::-1]
            for page in order:
                requests = max(4, round(options.requests * page.weight * (0.2 if warm_up else 1)))
                if page.live:
                    requests = min(requests, LIVE_MOST)
                figures, rss = bench.run(page, requests, profile=not warm_up)
                if warm_up:
                    continue
                result = results[page.name]
                result.requests.append(figures["requests"])
                result.rates.append(figures["requests"] / figures["microseconds"] * 1e6)
                result.medians.append(figures["median_us"] / 1000)
                result.p95s.append(figures["p95_us"] / 1000)
                result.rss.append(rss)
                result.bad += figures["bad_status"] + figures["socket_errors"]
        if options.keep_logs:
            shutil.copytree(folder, options.keep_logs, dirs_exist_ok=True)
        return results, bench_mail(uri)


def bench_mail(uri: str) -> dict[str, int]:
    """The recap mails by state: every tenant's, on an engine of its own (cross-tenant)."""
    engine = create_engine(database_url(uri))
    with engine.connect() as connection:
        states = dict(
            connection.execute(
                select(OutboxMail.state, func.count()).group_by(OutboxMail.state)
            ).all()
        )
    engine.dispose()
    return {MailState(state).value: count for state, count in states.items()}


# --- Report ------------------------------------------------------------------------------


def verdict(holds: bool) -> str:
    return "yes" if holds else "NO"


def report(
    options, loaded: dataset.Loaded, results: dict[str, Figures], mail: dict[str, int]
) -> None:
    print_header(options, loaded)
    page_list = pages(loaded)
    print_table(
        (
            "page",
            "requests",
            "req/s",
            "median ms",
            "p95 ms",
            "statements",
            "RSS MB",
            "vs floor",
            "vs hello",
            "target",
            "holds?",
            "errors",
        ),
        [page_row(page, results) for page in page_list],
    )
    states = ", ".join(f"{count:,} {state}" for state, count in sorted(mail.items()))
    print(f"\nrecap mails after the run: {states}\n")
    print_table(("target", "measured", "holds?"), summary_rows(page_list, results))


def print_header(options, loaded: dataset.Loaded) -> None:
    counts = loaded.counts
    print(f"\ncode: {code_state()}")
    print(
        f"PostgreSQL: {counts['client']:,} clients, {counts['contact']:,} contacts, "
        f"{counts['client_search_term']:,} search words, {counts['credit_account']:,} accounts, "
        f"{counts['ledger_entry']:,} ledger entries in 3 tenants; "
        f"{counts['support_request']:,} support requests with {counts['request_message']:,} "
        f"messages and {counts['chat_message']:,} chat messages in the first; "
        + (
            f"loaded in {counts['seconds']} s, VACUUM ANALYZE {counts['vacuum seconds']} s"
            if "seconds" in counts
            else "loaded by an earlier run"
        )
    )
    print(
        f"gunicorn.conf.py, {WORKERS} sync workers; wrk, 1 thread, "
        f"{options.connections} connections; medians of {options.rounds} rounds; "
        "vs floor: Portal's req/s over its floor's (the raw-SQL one unless named)\n"
    )


def page_row(page: Page, results: dict[str, Figures]) -> tuple:
    figures = results[page.name]
    target, holds = line_target(page, results)
    return (
        page.name,
        f"{statistics.median(figures.requests):,.0f}",
        f"{figures.rate:,.1f}",
        f"{statistics.median(figures.medians):.1f}",
        f"{statistics.median(figures.p95s):.1f}",
        figures.statement_label,
        f"{max(figures.rss):.0f}",
        "" if page.floor else floor_label(page, results),
        "" if page.floor else f"{figures.rate / results[HELLO].rate:.3f}",
        target,
        "" if page.floor else ("-" if holds is None else verdict(holds)),
        str(figures.bad) if figures.bad else "",
    )


def floor_ratio(page: Page, results: dict[str, Figures]) -> float:
    """Portal's rate on ``page`` as a share of its floor's, in the same run."""
    return results[page.name].rate / results[page.floor_name].rate


def floor_label(page: Page, results: dict[str, Figures]) -> str:
    short = FLOOR_SHORT_NAMES.get(page.floor_name)
    return f"{floor_ratio(page, results):.2f}" + (f" ({short})" if short else "")


def rows_per_second(page: Page, results: dict[str, Figures]) -> float:
    return results[page.name].rate * page.rows


def smtp_ratio(results: dict[str, Figures]) -> float:
    return results["record, SMTP black-holed"].rate / results["record, SMTP up"].rate


def line_target(page: Page, results: dict[str, Figures]) -> tuple[str, bool | None]:
    """The target of ``page``'s line and whether it holds (None: the line has none)."""
    if page.floor:
        return "", None
    if page.rows:
        rows = rows_per_second(page, results)
        return f"{MIN_CSV_ROWS_PER_SECOND:,} rows/s", rows >= MIN_CSV_ROWS_PER_SECOND
    if page.smtp == "black-holed":
        return f">= {SMTP_RATIO} x SMTP up", smtp_ratio(results) >= SMTP_RATIO
    if page.minimum is None:
        return "-", None
    return f">= {page.minimum}", floor_ratio(page, results) >= page.minimum


def summary_rows(page_list: list[Page], results: dict[str, Figures]) -> list[tuple]:
    """The issue's targets, each over the lines it applies to."""
    portal = [page for page in page_list if not page.floor]
    worst_statements = max(
        (page for page in portal if results[page.name].statements),
        key=lambda page: max(results[page.name].statements),
    )
    statements = max(results[worst_statements.name].statements)
    rss = max(max(results[page.name].rss) for page in portal)
    csv = next(page for page in portal if page.rows)
    rows = rows_per_second(csv, results)
    smtp = smtp_ratio(results)
    return [
        *floor_target_rows(portal, results),
        (
            f"{csv.name}: rows/s >= {MIN_CSV_ROWS_PER_SECOND:,}",
            f"{rows:,.0f} ({floor_ratio(csv, results):.2f} x COPY floor)",
            verdict(rows >= MIN_CSV_ROWS_PER_SECOND),
        ),
        (
            f"statements per request <= {MAX_STATEMENTS}",
            f"at most {statements} ({worst_statements.name})",
            verdict(statements <= MAX_STATEMENTS),
        ),
        *[
            (
                f"{pair}: statements constant, 100 vs 100,000",
                "same" if same else "differ",
                verdict(same),
            )
            for pair, same in constant_statements(results)
        ],
        *[
            (
                f"{pair}: 100,000 <= {TARGET_RATIO} x 100",
                f"{ratio:.2f}",
                verdict(ratio <= TARGET_RATIO),
            )
            for pair, ratio in size_ratios(results)
        ],
        (f"worker RSS <= {MAX_RSS_MB} MB", f"{rss:.0f} MB", verdict(rss <= MAX_RSS_MB)),
        (
            f"record, SMTP black-holed >= {SMTP_RATIO} x up",
            f"{smtp:.2f}",
            verdict(smtp >= SMTP_RATIO),
        ),
    ]


def floor_target_rows(portal: list[Page], results: dict[str, Figures]) -> list[tuple]:
    """One row per floor target: the lowest ratio among the pages it applies to."""
    rows = []
    for minimum, pages_named in FLOOR_TARGETS.items():
        lowest = min(
            (page for page in portal if page.minimum == minimum),
            key=lambda page: floor_ratio(page, results),
        )
        ratio = floor_ratio(lowest, results)
        rows.append(
            (
                f"{pages_named} >= {minimum} x raw-SQL floor",
                f"lowest {ratio:.2f} ({lowest.name})",
                verdict(ratio >= minimum),
            )
        )
    return rows


def constant_statements(results: dict[str, Figures]) -> list[tuple[str, bool]]:
    """Whether each pair's usual statement count is the same at 100 and 100,000 rows."""
    return [
        (
            pair,
            statistics.mode(results[f"{pair}, 100"].statements)
            == statistics.mode(results[f"{pair}, 100,000"].statements),
        )
        for pair in CONSTANT_PAIRS
    ]


def size_ratios(results: dict[str, Figures]) -> list[tuple[str, float]]:
    """Each pair's 100,000-row page time over its 100-row one (the inverse of the rates)."""
    return [
        (pair, results[f"{pair}, 100"].rate / results[f"{pair}, 100,000"].rate)
        for pair in SIZE_PAIRS
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="a server where a database may be created",
    )
    parser.add_argument(
        "--database", help="load this database once and keep it (by default a throwaway one)"
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="share of the data set to load (1 = all of it)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="timed rounds; the table shows their medians"
    )
    parser.add_argument("--requests", type=int, default=400, help="requests per page and round")
    parser.add_argument("--connections", type=int, default=4, help="wrk's open connections")
    parser.add_argument("--keep-logs", type=Path, help="copy the servers' logs to this folder")
    parser.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="PAGE",
        help="py-spy Portal's workers during the first timed run of PAGE (with --keep-logs)",
    )
    options = parser.parse_args()
    if options.rounds < 1 or options.requests < 4 or not 0 < options.scale <= 1:
        parser.error("--rounds >= 1, --requests >= 4 and 0 < --scale <= 1")
    ensure_wrk()
    with ExitStack() as stack:
        if options.database:
            uri = (
                make_url(options.postgres_url)
                .set(database=options.database)
                .render_as_string(hide_password=False)
            )
            loaded = kept_database(options, uri)
        else:
            uri = stack.enter_context(fresh_database("postgresql", options.postgres_url))
            loaded = load_database(options, uri)
        results, mail = measure(options, uri, loaded)
    report(options, loaded, results, mail)


def kept_database(options, uri: str) -> dataset.Loaded:
    """The named database, created and loaded on first use (its load time printed as 0)."""
    server = create_engine(
        make_url(database_url(options.postgres_url)).set(database="postgres"),
        isolation_level="AUTOCOMMIT",
    )
    with server.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": options.database}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{options.database}"'))
    server.dispose()
    if not exists:
        return load_database(options, uri)
    app = make_app(uri)
    with app.app_context():
        loaded = dataset.find()
        db.session.remove()
        db.engine.dispose()
    return loaded


if __name__ == "__main__":
    main()
