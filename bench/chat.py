"""Benchmark of the team chat's live updates (issue 21): what short polling costs when
200 staff keep a chat page open, how soon a message reaches them, and whether a long
channel opens as fast as a short one.

On a throwaway PostgreSQL database it makes one tenant with N page users, the posters,
an administrator and a reader (Portal's own services), two channels of 100 and of
100,000 messages (COPY) and 100 clients; serves Portal with gunicorn.conf.py and
bench/run.py's sync workers (Redis for the rate limits), signs everyone in through the
login form, and opens each user's "Everyone" channel page. Then, in one run:

1. quiet: only a probe, the administrator's client list requested every 0.25 s;
2. idle: every page polls /chat/updates as static/chat.js does (every 1.5 s after the
   previous answer, holding its sequence number and the digests of its channel list
   and members, ``active=1`` nine times in ten), no posts: polls per second, share of
   empty 204 answers, CPU of gunicorn's master and workers
   and of the PostgreSQL backends over wall time x CPUs, and the probe's latency;
3. posting: the same with R messages a second posted to "Everyone" (each poster one
   every 2 s, half its rate limit), each page marking what it was sent read as the
   script does: the delay from a POST to each page's answer holding its id;
4. the channel pages of 100 and 100,000 messages over HTTP (median) and their SQL
   statements, counted in process on the same database.

It prints one table; ratios are within this run.

    .venv/bin/python bench/chat.py                 # 200 pages, 20 msg/s, 60 s a phase
    .venv/bin/python bench/chat.py --quick         # a one-minute try
"""

import argparse
import http.client
import json
import math
import multiprocessing
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from common import (
    CSRF_PATTERN,
    DEFAULT_POSTGRES_URL,
    PASSWORD,
    ROOT,
    TARGET_RATIO,
    IsolatedClient,
    StatementCounter,
    code_state,
    free_port,
    fresh_database,
    make_app,
    print_table,
    production_env,
    serve,
    sign_in,
    statement_label,
)
from dataset import fill
from flask_migrate import upgrade
from run import cookie_header, http_session, libpq_url
from sqlalchemy import create_engine, insert, select, text
from werkzeug.security import generate_password_hash

from portal.config import database_url
from portal.extensions import db
from portal.models import ChatChannel, Client, SystemRole, UserStatus
from portal.services import chat
from portal.services.actor import Actor
from portal.services.tenants import create_staff_user, create_tenant, role_named, system_role
from portal.tenancy import bound_to

SLUG, NAME = "alpha", "Alpha Services"
#: static/chat.js and portal/chat/views.py: an open page asks every 1.5 s after its answer.
INTERVAL = 1.5
#: A page says its user is active (typed, clicked, scrolled in the last minute) this often.
ACTIVE_SHARE = 0.9
#: Each poster posts at most this often (a message every 2 s: half of 60/minute).
POSTS_PER_POSTER = 0.5
#: The probe asks for its page this often, alone or beside the chat's traffic.
PROBE_EVERY = 0.25
#: The longest wait for the pages to settle before a phase, or to catch up after one.
SETTLE_LIMIT = 30
CLIENTS = 100
SMALL = 100
#: Targets of the issue.
MAX_DELAY_P95_MS = 2000
AFTER_ID = re.compile(r'data-after="(\d+)"')
MESSAGE_ID = re.compile(r'id="message-(\d+)"')
ACCESS_LINE = re.compile(r'"(\w+) (\S+) HTTP/[\d.]+" (\d+) (\S+) (\d+)us')
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Loaded:
    """What the run needs from the database: the channels and who signs in."""

    everyone: int
    small: int
    large: int
    pages: list[str]
    posters: list[str]
    admin: str = f"admin@{SLUG}.test"
    reader: str = f"reader@{SLUG}.test"


# --- Load ----------------------------------------------------------------------------------


def load(users: int, posters: int, messages: int) -> Loaded:
    """The tenant, its staff (all in "Everyone"), its clients and the two channels."""
    # The foreign keys are right by construction; a superuser setting, as in dataset.py.
    db.session.execute(text("SET LOCAL session_replication_role = replica"))
    password_hash = generate_password_hash(PASSWORD)
    tenant = create_tenant(SLUG, NAME, administrators_two_factor=False)
    with bound_to(db.session, tenant.id):
        staff = role_named("Staff")
        made = {}
        logins = (
            [("admin", system_role(SystemRole.ADMINISTRATOR)), ("reader", staff)]
            + [(f"page{n:03d}", staff) for n in range(users)]
            + [(f"poster{n:03d}", staff) for n in range(posters)]
        )
        for login, role in logins:
            user = create_staff_user(
                email=f"{login}@{SLUG}.test",
                name=f"{login.title()} Bench",
                password=None,
                role=role,
            )
            user.password_hash, user.status = password_hash, UserStatus.ACTIVE
            made[login] = user
        db.session.flush()
        db.session.execute(
            insert(Client),
            [
                {"tenant_id": tenant.id, "code": str(1000 + n), "name": f"Client {n}"}
                for n in range(CLIENTS)
            ],
        )
        reader = made["reader"]
        authors = [reader.id, *(made[f"poster{n:03d}"].id for n in range(min(posters, 4)))]
        actor = Actor(tenant, user=reader)
        channels = {}
        for size in (SMALL, messages):
            channel = chat.create_channel(
                f"{size:,} messages", "#1f5fbf", None, authors, actor=actor
            )
            fill(tenant.id, channel, authors, size)
            channels[size] = channel.id
        everyone = db.session.scalar(
            select(ChatChannel.id).where(ChatChannel.unique_key == "everyone")
        )
    db.session.commit()
    return Loaded(
        everyone=everyone,
        small=channels[SMALL],
        large=channels[messages],
        pages=[f"page{n:03d}@{SLUG}.test" for n in range(users)],
        posters=[f"poster{n:03d}@{SLUG}.test" for n in range(posters)],
    )


def prepare(uri: str, options) -> Loaded:
    app = make_app(uri)
    with app.app_context():
        upgrade()
        loaded = load(options.users, posters_for(options.rate), options.messages)
        db.session.remove()
        db.engine.dispose()
    # As bench/run.py: the statistics and the visibility map autovacuum would set later.
    engine = create_engine(database_url(uri), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("VACUUM (ANALYZE)"))
    engine.dispose()
    return loaded


def posters_for(rate: float) -> int:
    return max(1, math.ceil(rate / POSTS_PER_POSTER))


# --- The simulated browsers ----------------------------------------------------------------


class Browser:
    """One signed-in user's HTTP connection to gunicorn (a sync worker closes it after
    every answer, as behind a proxy; http.client opens the next one)."""

    def __init__(self, port: int, cookie: str):
        self.port, self.cookie = port, cookie
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: str | None = None, headers=None):
        """(status, body, ETag), or (0, b"", None) when the connection failed."""
        headers = {"Cookie": self.cookie, **(headers or {})}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            return 0, b"", None
        if response.will_close:
            self.connection.close()
        return response.status, data, response.getheader("ETag")


@dataclass
class Poll:
    ended: float
    status: int
    milliseconds: float
    size: int


class ChatPage(threading.Thread):
    """An open "Everyone" page: polls as static/chat.js does, notes when each message
    id first reaches it, marks what it was sent read."""

    def __init__(self, run: "Run", login: str, cookie: str, page: str, seed: int):
        super().__init__(daemon=True)
        self.run_, self.browser = run, Browser(run.port, cookie)
        self.after = AFTER_ID.search(page).group(1)
        self.csrf = CSRF_PATTERN.search(page).group(1)
        self.random = random.Random(seed)  # noqa: S311 - a schedule, not a secret
        #: The digests of the channel list and of the members the page holds.
        self.marks = self.people = ""
        #: The highest message id shown, and the highest the page has said it read.
        self.shown = self.told = 0
        #: Message id -> when an answer first held it (perf_counter).
        self.seen: dict[int, float] = {}

    def run(self) -> None:
        run = self.run_
        channel = run.loaded.everyone
        wake = time.perf_counter() + self.random.uniform(0, INTERVAL)
        while not run.stop_polls.wait(max(0.0, wake - time.perf_counter())):
            active = "1" if self.random.random() < ACTIVE_SHARE else "0"
            query = {
                "channel": channel,
                "marks": self.marks,
                "people": self.people,
                "active": active,
                "after": self.after,
            }
            # The page says, with its next turn, how far it has shown the channel.
            reading = self.shown if self.shown > self.told else 0
            if reading:
                query["read"] = reading
            path = f"/{SLUG}/chat/updates?{urllib.parse.urlencode(query)}"
            start = time.perf_counter()
            status, body, _tag = self.browser.request(
                "GET", path, headers={"Accept": "application/json"}
            )
            ended = time.perf_counter()
            run.polls.append(Poll(ended, status, (ended - start) * 1000, len(body)))
            if reading and status in (200, 204):
                self.told = reading
                run.marks.append((ended, status))
            # The script asks again 1.5 s after the answer.
            wake = ended + INTERVAL
            if status != 200:
                continue
            data = json.loads(body)
            if data.get("reload"):
                self.reload()
                continue
            self.marks = data.get("marks", self.marks)
            self.people = data.get("people_digest", self.people)
            for message in data.get("messages") or []:
                self.seen.setdefault(message["id"], ended)
                self.shown = max(self.shown, message["id"])
            if data.get("after") is not None:
                self.after = data["after"]

    def reload(self) -> None:
        """More changes than one answer holds: the script reloads the page."""
        status, body, _ = self.browser.request("GET", f"/{SLUG}/chat/{self.run_.loaded.everyone}")
        ended = time.perf_counter()
        self.run_.reloads.append((ended, status))
        if status == 200:
            page = body.decode()
            for found in MESSAGE_ID.finditer(page):
                self.seen.setdefault(int(found.group(1)), ended)
            self.after = AFTER_ID.search(page).group(1)
            self.marks = self.people = ""


class Poster(threading.Thread):
    """Posts its share of the messages: message k at start + k / rate, for k = its
    number modulo the posters; late if the server is, never skipped."""

    def __init__(self, run: "Run", number: int, cookie: str, page: str):
        super().__init__(daemon=True)
        self.run_, self.number, self.browser = run, number, Browser(run.port, cookie)
        self.csrf = CSRF_PATTERN.search(page).group(1)

    def run(self) -> None:
        run = self.run_
        rate, count = run.options.rate, len(run.loaded.posters)
        path = f"/{SLUG}/chat/{run.loaded.everyone}/messages"
        k = self.number
        while True:
            due = run.posting_from + k / rate
            if run.stop_posts.wait(max(0.0, due - time.perf_counter())):
                return
            form = urllib.parse.urlencode(
                {"csrf_token": self.csrf, "body": f"Message {k} from poster {self.number}."}
            )
            sent = time.perf_counter()
            status, body, _ = self.browser.request(
                "POST", path, body=form, headers={"Accept": "application/json"}
            )
            answered = time.perf_counter()
            message_id = json.loads(body)["id"] if status == 201 else None
            run.posts.append((sent, answered, status, message_id))
            k += count


class Probe(threading.Thread):
    """Another page, requested every 0.25 s: its latency, alone or beside the chat."""

    def __init__(self, run: "Run", cookie: str, path: str):
        super().__init__(daemon=True)
        self.run_, self.path, self.browser = run, path, Browser(run.port, cookie)

    def run(self) -> None:
        while not self.run_.stop_probe.wait(PROBE_EVERY):
            start = time.perf_counter()
            status, _, _ = self.browser.request("GET", self.path)
            ended = time.perf_counter()
            self.run_.probes.append((ended, status, (ended - start) * 1000))


# --- CPU and the access log over a window --------------------------------------------------


def ticks(pid: int) -> int:
    """utime + stime of a process, in clock ticks (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def machine_ticks() -> tuple[int, int]:
    """(busy, total) ticks of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


@dataclass
class Snapshot:
    at: float
    gunicorn: dict[int, int]
    postgres: dict[int, int]
    client: float
    machine: tuple[int, int]
    log_offset: int


@dataclass
class Window:
    """A phase of the run, between two snapshots."""

    name: str
    start: Snapshot
    end: Snapshot
    #: (method, path, status, server milliseconds) from the access log's lines.
    served: list[tuple[str, str, int, float]] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.end.at - self.start.at

    def share(self, kind: str) -> float:
        """CPU seconds of ``kind`` over wall time x CPUs."""
        before, after = getattr(self.start, kind), getattr(self.end, kind)
        used = sum(after[pid] - before.get(pid, 0) for pid in after) / CLOCK_TICKS
        return used / (self.seconds * os.cpu_count())

    @property
    def client_share(self) -> float:
        return (self.end.client - self.start.client) / (self.seconds * os.cpu_count())

    @property
    def machine_share(self) -> float:
        (busy0, total0), (busy1, total1) = self.start.machine, self.end.machine
        return (busy1 - busy0) / (total1 - total0)

    @property
    def other_share(self) -> float:
        """The rest of the machine's busy time: other programs (the machine is shared)."""
        ours = self.share("gunicorn") + self.share("postgres") + self.client_share
        return max(0.0, self.machine_share - ours)

    def within(self, events: list, at=lambda event: event[0]) -> list:
        return [event for event in events if self.start.at <= at(event) < self.end.at]


# --- The run -------------------------------------------------------------------------------


class Run:
    def __init__(self, options, uri: str, loaded: Loaded, folder: Path, stack: ExitStack):
        self.options, self.loaded, self.folder = options, loaded, folder
        self.port = free_port()
        env = production_env(uri, self.port, self.options.workers)
        self.server = serve(stack, folder, "wsgi:app", self.port, ROOT, "portal", env, "/healthz")
        self.access_log = folder / "portal-access.log"
        self.libpq_url = libpq_url(uri)
        self.database = uri.rsplit("/", 1)[1].split("?")[0]
        self.polls: list[Poll] = []
        self.marks: list[tuple[float, int]] = []
        self.reloads: list[tuple[float, int]] = []
        self.posts: list[tuple[float, float, int, int | None]] = []
        self.probes: list[tuple[float, int, float]] = []
        self.stop_polls, self.stop_posts, self.stop_probe = (threading.Event() for _ in range(3))
        self.posting_from = 0.0

    def snapshot(self) -> Snapshot:
        master = self.server.pid
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        # A connection of its own each time: the server may be restarted meanwhile (a
        # test of the suite does it, and the machine may be shared).
        with psycopg.connect(self.libpq_url, autocommit=True) as monitor:
            backends = monitor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (self.database,),
            ).fetchall()
        times = os.times()
        return Snapshot(
            at=time.perf_counter(),
            gunicorn={pid: ticks(pid) for pid in [master, *map(int, children)]},
            postgres={pid: ticks(pid) for (pid,) in backends},
            client=times.user + times.system,
            machine=machine_ticks(),
            log_offset=self.access_log.stat().st_size,
        )

    def window(self, name: str, seconds: float) -> Window:
        print(f"{name}: {seconds:.0f} s...", file=sys.stderr, flush=True)
        start = self.snapshot()
        time.sleep(seconds)
        window = Window(name, start, self.snapshot())
        window.served = self.served(start.log_offset, window.end.log_offset)
        return window

    def served(self, start: int, end: int) -> list[tuple[str, str, int, float]]:
        """(method, path, status, server milliseconds) of the access log's lines between
        two offsets: gunicorn's own measure of each request (%(D)s)."""
        with open(self.access_log, "rb") as log:
            log.seek(start)
            lines = log.read(end - start).decode()
        found = []
        for line in lines.splitlines():
            match = ACCESS_LINE.search(line)
            if match:
                method, path, status, _size, micros = match.groups()
                found.append((method, path, int(status), int(micros) / 1000))
        return found

    def sign_in_all(self) -> dict[str, tuple[str, str]]:
        """Everyone signed in through the login form, their "Everyone" page (or, for the
        reader and the administrator, the home page) opened: login -> (cookie, page)."""
        base = f"http://127.0.0.1:{self.port}"
        loaded = self.loaded
        logins = [loaded.admin, loaded.reader, *loaded.pages, *loaded.posters]
        print(f"signing in {len(logins)} users...", file=sys.stderr, flush=True)

        def open_page(login: str) -> tuple[str, tuple[str, str]]:
            jar = http_session(base, SLUG, login)
            path = f"/{SLUG}/chat/{loaded.everyone}" if login.startswith("p") else f"/{SLUG}/"
            page = jar.opener.open(f"{base}{path}").read().decode()
            return login, (cookie_header(jar), page)

        with ThreadPoolExecutor(max_workers=2 * self.options.workers) as pool:
            return dict(pool.map(open_page, logins))

    def measure(self) -> dict:
        options, loaded = self.options, self.loaded
        sessions = self.sign_in_all()
        probe = Probe(self, sessions[loaded.admin][0], f"/{SLUG}/clients/")
        probe.start()
        quiet = self.window("quiet (probe only)", max(5, options.seconds / 3))
        pages = [
            ChatPage(self, login, *sessions[login], seed=number)
            for number, login in enumerate(loaded.pages)
        ]
        for page in pages:
            page.start()
        self.settle()
        idle = self.window(f"idle ({len(pages)} pages polling)", options.seconds)
        posters = [
            Poster(self, number, *sessions[login]) for number, login in enumerate(loaded.posters)
        ]
        self.posting_from = time.perf_counter() + 0.2
        for poster in posters:
            poster.start()
        posting = self.window(f"posting ({options.rate:g} msg/s)", options.seconds)
        self.stop_posts.set()
        for poster in posters:
            poster.join()
        self.drain(pages)
        self.stop_polls.set()
        self.stop_probe.set()
        for thread in [*pages, probe]:
            thread.join()
        channel = self.channel_pages(sessions[loaded.reader][0])
        return {
            "quiet": quiet,
            "idle": idle,
            "posting": posting,
            "pages": pages,
            "channel": channel,
        }

    def settle(self) -> None:
        """Until the pages answer 204 again: each page's first answers, and everyone's
        presence changing as the pages come up (each changes every members list)."""
        started = time.perf_counter()
        while time.perf_counter() - started < SETTLE_LIMIT:
            time.sleep(INTERVAL)
            now = time.perf_counter()
            recent = [p.status for p in self.polls if p.ended > now - INTERVAL]
            settled = recent and recent.count(204) >= 0.95 * len(recent)
            if settled and now - started > 2 * INTERVAL:
                return

    def drain(self, pages: list["ChatPage"]) -> None:
        """Until every page has had the last message posted (or a limit)."""
        last = max((mid for _, _, status, mid in self.posts if status == 201), default=None)
        started = time.perf_counter()
        while time.perf_counter() - started < SETTLE_LIMIT:
            if last is None or all(last in page.seen for page in pages):
                return
            time.sleep(0.1)

    def channel_pages(self, cookie: str) -> dict[str, list[float]]:
        """Both channels' pages over HTTP, one after the other, after warm-ups."""
        print("channel pages...", file=sys.stderr, flush=True)
        browser = Browser(self.port, cookie)
        times: dict[str, list[float]] = {"small": [], "large": []}
        paths = {"small": self.loaded.small, "large": self.loaded.large}
        for number in range(self.options.warmups + self.options.repeat):
            for size, channel in paths.items():
                start = time.perf_counter()
                status, body, _ = browser.request("GET", f"/{SLUG}/chat/{channel}")
                elapsed = (time.perf_counter() - start) * 1000
                if status != 200 or b'id="message-' not in body:
                    raise SystemExit(f"channel {channel}: status {status}")
                if number >= self.options.warmups:
                    times[size].append(elapsed)
        return times


def count_statements(uri: str, loaded: Loaded) -> dict[str, list[int]]:
    """Each channel page's SQL statements, counted in process on the same database (the
    test client, 10 requests after 2), as bench/run.py counts its pages'."""
    app = make_app(uri)
    counts: dict[str, list[int]] = {"small": [], "large": []}
    with app.app_context():
        counter = StatementCounter(db.engine)
        app.test_client_class = IsolatedClient
        client = app.test_client()
        sign_in(client, SLUG, loaded.reader)
        for size, channel in (("small", loaded.small), ("large", loaded.large)):
            for number in range(12):
                counter.count, counter.counting = 0, True
                response = client.get(f"/{SLUG}/chat/{channel}")
                counter.counting = False
                if response.status_code != 200:
                    raise SystemExit(f"channel {channel}: status {response.status_code}")
                if number >= 2:
                    counts[size].append(counter.count)
        db.session.remove()
        db.engine.dispose()
    return counts


# --- Report --------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def verdict(holds: bool) -> str:
    return "yes" if holds else "NO"


def delays(run: Run, pages: list[ChatPage]) -> dict:
    """Post -> page delays over every (message, page) pair, from the POST sent and from
    its answer; and the pairs that never arrived."""
    posted = [(sent, answered, mid) for sent, answered, status, mid in run.posts if status == 201]
    from_sent, from_answer, missing = [], [], 0
    for sent, answered, message_id in posted:
        for page in pages:
            seen = page.seen.get(message_id)
            if seen is None:
                missing += 1
                continue
            from_sent.append((seen - sent) * 1000)
            from_answer.append((seen - answered) * 1000)
    return {
        "posted": len(posted),
        "refused": len(run.posts) - len(posted),
        "pairs": len(from_sent),
        "missing": missing,
        "sent": from_sent,
        "answered": from_answer,
    }


def polls_row(run: Run, window: Window) -> dict:
    polls = window.within(run.polls, at=lambda poll: poll.ended)
    updates = [row for row in window.served if "/chat/updates" in row[1]]
    return {
        "rate": len(polls) / window.seconds,
        "not_modified": sum(poll.status == 204 for poll in polls) / max(1, len(polls)),
        "bad": sum(poll.status not in (200, 204) for poll in polls),
        "median": statistics.median(poll.milliseconds for poll in polls),
        "p95": percentile([poll.milliseconds for poll in polls], 0.95),
        "size_200": statistics.median([p.size for p in polls if p.status == 200] or [0]),
        "server_204": statistics.median([r[3] for r in updates if r[2] == 204] or [0]),
        "server_200": statistics.median([r[3] for r in updates if r[2] == 200] or [0]),
        "marks": len(window.within(run.marks)) / window.seconds,
        "reloads": len(window.within(run.reloads)),
    }


def probe_median(run: Run, window: Window) -> float:
    return statistics.median(ms for _, status, ms in window.within(run.probes) if status == 200)


def report(options, loaded: Loaded, run: Run, results: dict, statements: dict) -> None:
    quiet, idle, posting = results["quiet"], results["idle"], results["posting"]
    pages = results["pages"]
    idle_polls, posting_polls = polls_row(run, idle), polls_row(run, posting)
    posts_served = [r for r in posting.served if r[0] == "POST" and r[1].endswith("/messages")]
    per_poll = (
        idle.share("gunicorn")
        * idle.seconds
        * os.cpu_count()
        * 1000
        / max(1, idle_polls["rate"] * idle.seconds)
    )
    delay = delays(run, pages)
    probe = {
        name: probe_median(run, window)
        for name, window in (("quiet", quiet), ("idle", idle), ("posting", posting))
    }
    channel = results["channel"]
    small_ms, large_ms = statistics.median(channel["small"]), statistics.median(channel["large"])
    ratio = large_ms / small_ms
    small_statements, large_statements = statements["small"], statements["large"]
    same = statistics.mode(small_statements) == statistics.mode(large_statements)
    expected = len(pages) / INTERVAL
    p95 = percentile(delay["sent"], 0.95) if delay["sent"] else float("inf")
    print(f"\ncode: {code_state()}")
    print(
        f"PostgreSQL, one tenant; gunicorn.conf.py with {options.workers} sync workers "
        f"(WEB_CONCURRENCY={options.workers}), {os.cpu_count()} CPUs shared with "
        f"PostgreSQL, Redis and this script; {len(pages)} pages polling every {INTERVAL} s; "
        f'{len(loaded.posters)} posters, {options.rate:g} msg/s to "Everyone" '
        f"({len(pages) + len(loaded.posters) + 2} members); {options.seconds:g} s a phase. "
        "Medians unless said; ratios within this run.\n"
    )

    def cpu(window: Window) -> str:
        return (
            f"{window.share('gunicorn'):.1%} / {window.share('postgres'):.1%} / "
            f"{window.client_share:.1%} / {window.other_share:.1%}"
        )

    def polls(row: dict) -> str:
        return f"{row['rate']:.1f} ({row['not_modified']:.1%} 204)"

    rows = [
        ("idle: polls/s (share of 204)", polls(idle_polls), f"~{expected:.0f} (users / 1.5 s)", ""),
        (
            "idle: poll latency, median / p95 ms",
            f"{idle_polls['median']:.1f} / {idle_polls['p95']:.1f}",
            "",
            "",
        ),
        ("idle: server time of a 204, ms (access log)", f"{idle_polls['server_204']:.1f}", "", ""),
        (
            "idle: CPU share: gunicorn / database / script / other",
            cpu(idle),
            "",
            "",
        ),
        (
            "idle: gunicorn CPU ms per poll",
            f"{per_poll:.1f}",
            "",
            "",
        ),
        (
            "posting: messages posted/s (refused)",
            f"{delay['posted'] / posting.seconds:.1f} ({delay['refused']})",
            f"{options.rate:g}",
            "",
        ),
        (
            "posting: POST server time, median ms",
            f"{statistics.median([r[3] for r in posts_served] or [0]):.1f}",
            "",
            "",
        ),
        ("posting: polls/s (share of 204)", polls(posting_polls), "", ""),
        (
            "posting: poll latency, median / p95 ms",
            f"{posting_polls['median']:.1f} / {posting_polls['p95']:.1f}",
            "",
            "",
        ),
        (
            "posting: server time of a 200, ms; its size, KB",
            f"{posting_polls['server_200']:.1f}; {posting_polls['size_200'] / 1024:.1f}",
            "",
            "",
        ),
        (
            "posting: read marks/s; page reloads",
            f"{posting_polls['marks']:.1f}; {posting_polls['reloads']}",
            "",
            "",
        ),
        ("posting: CPU share: gunicorn / database / script / other", cpu(posting), "", ""),
        (
            "delay POST sent -> page holds it, p50 / p95 ms",
            f"{percentile(delay['sent'], 0.5):.0f} / {p95:.0f}" if delay["sent"] else "-",
            f"p95 <= {MAX_DELAY_P95_MS}",
            verdict(p95 <= MAX_DELAY_P95_MS),
        ),
        (
            "delay POST answered -> page holds it, p50 / p95 ms",
            f"{percentile(delay['answered'], 0.5):.0f} / {percentile(delay['answered'], 0.95):.0f}"
            if delay["answered"]
            else "-",
            "",
            "",
        ),
        (
            "(message, page) pairs arrived (missing)",
            f"{delay['pairs']:,} ({delay['missing']:,})",
            "none missing",
            verdict(delay["missing"] == 0),
        ),
        ("client list, ms: no chat traffic", f"{probe['quiet']:.1f}", "", ""),
        (
            "client list, ms: idle pollers (ratio)",
            f"{probe['idle']:.1f} ({probe['idle'] / probe['quiet']:.2f})",
            "",
            "",
        ),
        (
            "client list, ms: pollers + posts (ratio)",
            f"{probe['posting']:.1f} ({probe['posting'] / probe['quiet']:.2f})",
            "",
            "",
        ),
        (
            f"channel page, {SMALL} msgs: ms; statements",
            f"{small_ms:.1f}; {statement_label(small_statements)}",
            "",
            "",
        ),
        (
            f"channel page, {options.messages:,} msgs: ms; statements",
            f"{large_ms:.1f}; {statement_label(large_statements)}",
            "",
            "",
        ),
        (
            f"channel page {options.messages:,} / {SMALL}: ratio",
            f"{ratio:.2f}",
            f"<= {TARGET_RATIO}",
            verdict(ratio <= TARGET_RATIO),
        ),
        (
            "channel page: same statements",
            "same" if same else "differ",
            "same",
            verdict(same),
        ),
    ]
    bad = idle_polls["bad"] + posting_polls["bad"]
    if bad:
        rows.append(("polls not answered 200/204", str(bad), "0", "NO"))
    print_table(("measure", "figure", "target", "holds?"), rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200, help="open chat pages")
    parser.add_argument("--rate", type=float, default=20, help="messages posted a second")
    parser.add_argument("--seconds", type=float, default=60, help="measured seconds a phase")
    parser.add_argument(
        "--messages", type=int, default=100_000, help="messages of the long channel"
    )
    parser.add_argument("--repeat", type=int, default=30, help="timed channel pages each")
    parser.add_argument("--warmups", type=int, default=5, help="untimed channel pages each")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a one-minute try: 40 pages, 5 msg/s, 10 s a phase, 10,000 messages",
    )
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="a server where a throwaway database may be created",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=multiprocessing.cpu_count() * 2 + 1,
        help="gunicorn's sync workers (default: gunicorn.conf.py's, 2 per CPU plus one)",
    )
    parser.add_argument("--keep-logs", type=Path, help="copy gunicorn's logs to this folder")
    options = parser.parse_args()
    if options.quick:
        options.users, options.rate, options.seconds = 40, 5, 10
        options.messages, options.repeat, options.warmups = 10_000, 10, 2
    if options.users < 1 or options.rate <= 0 or options.seconds < 5 or options.messages <= SMALL:
        parser.error("--users >= 1, --rate > 0, --seconds >= 5, --messages > 100")
    started = time.perf_counter()
    with ExitStack() as stack:
        uri = stack.enter_context(fresh_database("postgresql", options.postgres_url))
        print(
            f"loading {options.users} pages, {posters_for(options.rate)} posters, "
            f"{options.messages:,} messages...",
            file=sys.stderr,
            flush=True,
        )
        loaded = prepare(uri, options)
        with tempfile.TemporaryDirectory(prefix="portal-chat-") as folder, ExitStack() as serving:
            run = Run(options, uri, loaded, Path(folder), serving)
            results = run.measure()
            if options.keep_logs:
                shutil.copytree(folder, options.keep_logs, dirs_exist_ok=True)
        print("counting statements in process...", file=sys.stderr, flush=True)
        statements = count_statements(uri, loaded)
    report(options, loaded, run, results, statements)
    print(f"\nwhole run: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
