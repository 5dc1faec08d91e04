"""Worker memory (issue 23): the resident memory of gunicorn's workers serving Portal as
production does, right after they start and after they served the main pages.

It loads a small data set (bench/dataset.py at its smallest: 3 tenants, the measured
accounts of 100 and 100,000 ledger entries) on a throwaway PostgreSQL database, serves
Portal with gunicorn.conf.py, signs in over HTTP as a technician and as a client, drives
each page a few hundred times from a few connections at once (so that every worker
serves them) and prints each worker's RSS, and its PSS (the shared pages split between
the processes that share them), after each page, against the target.

    .venv/bin/python bench/memory.py
    .venv/bin/python bench/memory.py --requests 100 --workers 3
"""

import argparse
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import dataset
from common import (
    DEFAULT_POSTGRES_URL,
    free_port,
    fresh_database,
    make_app,
    print_table,
    production_env,
    serve,
)
from flask_migrate import upgrade
from run import http_session

from portal.extensions import db

ROOT = Path(__file__).resolve().parent.parent
MAX_RSS_MB = 100
#: Requests in flight at once, so that the kernel hands them to every worker.
CONNECTIONS = 4


def memory_mb(pid: int) -> tuple[float, float]:
    """RSS and PSS of process ``pid``, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0]) / 1024
    return fields["Rss"], fields["Pss"]


def workers(master_pid: int) -> list[int]:
    return [
        int(pid)
        for pid in Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    ]


def settled(master_pid: int, count: int) -> list[int]:
    """The workers once all ``count`` have started and loaded the app: their memory no
    longer grows (the health check that said the server is up reached only one)."""
    previous = None
    while True:
        pids = workers(master_pid)
        sizes = [memory_mb(pid)[0] for pid in pids] if len(pids) == count else None
        steady = sizes and previous and len(sizes) == len(previous)
        if steady and all(abs(a - b) < 0.2 for a, b in zip(sizes, previous, strict=True)):
            return pids
        previous = sizes
        time.sleep(0.5)


def row(stage: str, pids: list[int]) -> tuple:
    sizes = [memory_mb(pid) for pid in pids]
    rss = max(size[0] for size in sizes)
    return (
        stage,
        " ".join(f"{size[0]:.0f}" for size in sizes),
        " ".join(f"{size[1]:.0f}" for size in sizes),
        f"{rss:.0f}",
        "yes" if rss <= MAX_RSS_MB else "NO",
    )


def pages(loaded: dataset.Loaded) -> list[tuple[str, str, str | None]]:
    """Name, path and who is signed in."""
    slug, small, large = loaded.slug, loaded.small_account_id, loaded.large_account_id
    return [
        ("sign-in page", f"/{slug}/login", None),
        ("staff home", f"/{slug}/", "tech"),
        ("client list", f"/{slug}/clients/", "tech"),
        ("client search", f"/{slug}/clients/?q={loaded.search}", "tech"),
        ("client page", f"/{slug}/clients/{loaded.known_client_id}", "tech"),
        ("account page", f"/{slug}/support/accounts/{large}", "tech"),
        ("desk", f"/{slug}/desk/", "tech"),
        ("chat", f"/{slug}/chat/", "tech"),
        ("sessions", f"/{slug}/sessions", "tech"),
        ("client home", f"/{slug}/", "client"),
        ("my company", f"/{slug}/account", "client"),
        ("statement", f"/{slug}/statement/{large}", "client"),
        ("CSV export, 100", f"/{slug}/statement/{small}.csv", "client"),
        ("requests", f"/{slug}/requests/", "client"),
    ]


def load(uri: str) -> dataset.Loaded:
    app = make_app(uri)
    with app.app_context():
        upgrade()
        loaded = dataset.load(dataset.Sizes().scaled(0))
        db.session.remove()
        db.engine.dispose()
    return loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per page")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn's workers")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="a server where a throwaway database may be created",
    )
    options = parser.parse_args()
    with (
        fresh_database("postgresql", options.postgres_url) as uri,
        tempfile.TemporaryDirectory(prefix="portal-memory-") as folder,
        ExitStack() as stack,
    ):
        print("loading the data set...", file=sys.stderr, flush=True)
        loaded = load(uri)
        port = free_port()
        # A host name, not an address, as production has: the sign-in page then offers
        # passkeys, as it does there.
        base = f"http://localhost:{port}"
        env = {**production_env(uri, port, options.workers), "PORTAL_BASE_URL": base}
        server = serve(stack, Path(folder), "wsgi:app", port, ROOT, "portal", env, "/healthz")
        pids = settled(server.pid, options.workers)
        rows = [row("start (after the health check)", pids)]
        openers = {None: urllib.request.build_opener()}
        for user, login in (("tech", f"tech@{loaded.slug}.test"), ("client", loaded.client_login)):
            openers[user] = http_session(base, loaded.slug, login).opener
        for name, path, user in pages(loaded):
            opener = openers[user]

            def fetch(_index: int, url: str = base + path, opener=opener) -> int:
                try:
                    with opener.open(url) as response:
                        response.read()
                        return response.status
                except urllib.error.HTTPError as error:
                    return error.code

            with ThreadPoolExecutor(CONNECTIONS) as pool:
                statuses = set(pool.map(fetch, range(options.requests)))
            if statuses != {200}:
                raise SystemExit(f"{name} ({path}) answered {sorted(statuses)}")
            rows.append(row(f"after {name} x {options.requests}", pids))
            print(*rows[-1], file=sys.stderr, flush=True)
        if workers(server.pid) != pids:
            raise SystemExit("a worker was replaced during the run: its memory is lost")
    print(
        f"\nPortal under gunicorn.conf.py, {options.workers} workers, PostgreSQL; "
        f"{CONNECTIONS} connections; MB per worker\n"
    )
    print_table(("stage", "RSS", "PSS", "largest RSS", f"<= {MAX_RSS_MB} MB?"), rows)


if __name__ == "__main__":
    main()
