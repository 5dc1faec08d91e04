"""The floor Portal is measured against (issue 10), served by the same gunicorn settings.

- ``/hello``: Flask answering "Hello, World!", the cost of the server and the framework.
- ``/statement``: the SQL statements the customer statement page ran, captured from one
  request to it by bench/run.py, replayed with the same parameters in one transaction
  through the raw driver (psycopg, as Portal uses), with every row returned as plain
  text: the cost of the page's data with nothing of Portal around it.
- ``/copy``: the rows and columns the CSV export reads for the 100,000-entry account,
  as ``COPY (SELECT ...) TO STDOUT WITH (FORMAT csv)`` (its SQL built by bench/run.py),
  streamed back chunk by chunk as PostgreSQL sends them: the cost of the export's data.

    BENCH_FLOOR_SQL=statements.pickle BENCH_FLOOR_COPY="COPY (...) TO STDOUT ..." \\
        BENCH_FLOOR_DATABASE=postgresql://... gunicorn -c ../gunicorn.conf.py floor:app
"""

import os
import pickle

import psycopg
from flask import Flask, Response

app = Flask(__name__)
with open(os.environ["BENCH_FLOOR_SQL"], "rb") as captured:
    #: (SQL, parameters) as Portal's driver received them.
    STATEMENTS = pickle.load(captured)  # noqa: S301 - written by bench/run.py for this run
#: ``COPY (SELECT ...) TO STDOUT WITH (FORMAT csv)``.
COPY_SQL = os.environ["BENCH_FLOOR_COPY"]
#: PostgreSQL sends COPY a row at a time: rows are sent on in chunks of this many bytes.
CHUNK_BYTES = 64 * 1024
PLAIN_TEXT = {"Content-Type": "text/plain; charset=utf-8"}
#: One connection per worker, opened by its first request (after gunicorn's fork), as
#: Portal's pool keeps one open.
connection: psycopg.Connection | None = None


def database() -> psycopg.Connection:
    global connection
    if connection is None or connection.closed:
        connection = psycopg.connect(os.environ["BENCH_FLOOR_DATABASE"])
    return connection


@app.get("/hello")
def hello():
    return "Hello, World!", PLAIN_TEXT


@app.get("/statement")
def statement():
    lines = []
    with database().transaction(), connection.cursor() as cursor:
        for sql, parameters in STATEMENTS:
            cursor.execute(sql, parameters)
            lines += [repr(row) for row in cursor.fetchall()]
    return "\n".join(lines), PLAIN_TEXT


@app.get("/copy")
def copy():
    def chunks():
        with (
            database().transaction(),
            connection.cursor() as cursor,
            cursor.copy(COPY_SQL) as rows,
        ):
            buffer = bytearray()
            for row in rows:
                buffer += row
                if len(buffer) >= CHUNK_BYTES:
                    yield bytes(buffer)
                    buffer.clear()
            yield bytes(buffer)

    return Response(chunks(), content_type="text/csv; charset=utf-8")
