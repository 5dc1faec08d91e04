"""Where a signed-in request's time goes, in process (issue 23): for each hot page, the
median milliseconds of the whole request and of its parts, timed by Flask's own signals
and hooks, on a database the load benchmark kept (``run.py --database NAME``).

- **set-up**: from the request's start to its view: routing, the before-request
  functions (request id, tenant, network, session and user, permissions, rate limits);
- **view**: the view's own work without the template: loading and computing;
- **render**: drawing the templates (``before_render_template`` to ``template_rendered``);
- **after**: from the view's return to the response: commit, headers, the session cookie.

With ``--cpu`` the parts are this process's CPU time, not the wall clock: the database's
own time drops out, and so does most of the noise of a machine running other work.

Also the SQL statements per request, and with ``--profile PAGE`` the functions where
that page spends its time (cProfile, by own time and with callees).

    .venv/bin/python bench/inprocess.py --database portal_bench
    .venv/bin/python bench/inprocess.py --database portal_bench --profile "statement, 100,000"
"""

import argparse
import cProfile
import pstats
import statistics
import time
from collections import defaultdict
from contextlib import ExitStack

import dataset
from common import (
    DEFAULT_POSTGRES_URL,
    IsolatedClient,
    StatementCounter,
    make_app,
    print_table,
    sign_in,
    statement_label,
)
from flask import before_render_template, request_finished, request_started, template_rendered
from sqlalchemy.engine import make_url

from portal.extensions import db

PARTS = ("set-up", "view", "render", "after")
#: The clock the parts are read from (``--cpu`` switches it to this process's CPU time).
clock_now = time.perf_counter


def pages(loaded: dataset.Loaded) -> list[tuple[str, str, str]]:
    """(name, path, who): the signed-in pages run.py serves, by the same names."""
    slug, large, small = loaded.slug, loaded.large_account_id, loaded.small_account_id
    return [
        ("client list", f"/{slug}/clients/", "tech"),
        ("account page, 100", f"/{slug}/support/accounts/{small}", "tech"),
        ("account page, 100,000", f"/{slug}/support/accounts/{large}", "tech"),
        ("statement, 100", f"/{slug}/statement/{small}", "client"),
        ("statement, 100,000", f"/{slug}/statement/{large}", "client"),
    ]


class Clock:
    """The instants of one request, from Flask's signals and a wrapper around the view."""

    def __init__(self, app) -> None:
        self.marks: dict[str, float] = {}
        self.render = 0.0
        request_started.connect(self._mark("start"), app, weak=False)
        request_finished.connect(self._mark("finish"), app, weak=False)
        before_render_template.connect(self._render_starts, app, weak=False)
        template_rendered.connect(self._render_ends, app, weak=False)
        for endpoint, view in list(app.view_functions.items()):
            app.view_functions[endpoint] = self._timed(view)

    def _mark(self, name):
        def mark(sender, **extra):
            self.marks[name] = clock_now()

        return mark

    def _render_starts(self, sender, template, context, **extra):
        # Only the outermost template: includes and macros render inside it.
        self.marks.setdefault("render", clock_now())

    def _render_ends(self, sender, template, context, **extra):
        if "render" in self.marks:
            self.render += clock_now() - self.marks.pop("render")

    def _timed(self, view):
        def timed(*args, **kwargs):
            self.marks["view"] = clock_now()
            try:
                return view(*args, **kwargs)
            finally:
                self.marks["returned"] = clock_now()

        timed.__dict__.update(view.__dict__)  # the gate reads its marks on the view
        timed.__wrapped__ = view
        return timed

    def reset(self) -> None:
        self.marks, self.render = {}, 0.0

    def parts(self, total: float) -> dict[str, float]:
        marks = self.marks
        view = marks["returned"] - marks["view"]
        return {
            "set-up": marks["view"] - marks["start"],
            "view": view - self.render,
            "render": self.render,
            "after": marks["finish"] - marks["returned"],
            "total": total,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--database", required=True, help="a database run.py loaded and kept")
    parser.add_argument("--repeat", type=int, default=200, help="timed requests per page")
    parser.add_argument("--profile", action="append", default=[], metavar="PAGE")
    parser.add_argument("--cpu", action="store_true", help="time this process's CPU only")
    options = parser.parse_args()
    global clock_now
    if options.cpu:
        clock_now = time.process_time
    uri = make_url(options.postgres_url).set(database=options.database)
    app = make_app(uri.render_as_string(hide_password=False))
    with app.app_context():
        loaded = dataset.find()
        db.session.remove()
    clock = Clock(app)
    counter = StatementCounter(_engine(app))
    app.test_client_class = IsolatedClient
    clients = {"tech": app.test_client(), "client": app.test_client()}
    sign_in(clients["tech"], loaded.slug, f"tech@{loaded.slug}.test")
    sign_in(clients["client"], loaded.slug, loaded.client_login)
    rows = []
    for name, path, who in pages(loaded):
        timings: dict[str, list[float]] = defaultdict(list)
        statements = []
        profiler = cProfile.Profile() if name in options.profile else None
        for number in range(options.repeat + 10):
            clock.reset()
            counter.count, counter.counting = 0, True
            start = clock_now()
            with ExitStack() as stack:
                if profiler and number >= 10:
                    profiler.enable()
                    stack.callback(profiler.disable)
                response = clients[who].get(path)
            total = clock_now() - start
            counter.counting = False
            if response.status_code != 200:
                raise SystemExit(f"{name}: GET {path} answered {response.status_code}")
            if number < 10:
                continue
            statements.append(counter.count)
            for part, seconds in clock.parts(total).items():
                timings[part].append(seconds * 1000)
        rows.append(
            (
                name,
                *(f"{statistics.median(timings[part]):.2f}" for part in (*PARTS, "total")),
                statement_label(statements),
            )
        )
        if profiler:
            print(f"\n== {name}: {options.repeat} requests ==")
            stats = pstats.Stats(profiler).strip_dirs()
            stats.sort_stats("tottime").print_stats(30)
            stats.sort_stats("cumulative").print_stats(60)
    print()
    print_table(("page", *(f"{part} ms" for part in PARTS), "total ms", "statements"), rows)


def _engine(app):
    with app.app_context():
        return db.engine


if __name__ == "__main__":
    main()
