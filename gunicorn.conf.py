"""Production serving: ``gunicorn -c gunicorn.conf.py wsgi:app`` behind a proxy.

Every setting can be changed from the environment without editing this file.
"""

import multiprocessing
import os

#: Where gunicorn listens; the proxy in front terminates TLS.
bind = os.environ.get("PORTAL_BIND", "127.0.0.1:8000")
#: Portal's workers wait on the database, not the CPU: two per core, plus one.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
#: A request taking longer is stuck: the worker is replaced (the CSV export streams, so
#: it keeps the worker alive while it sends).
timeout = int(os.environ.get("PORTAL_TIMEOUT", "30"))
#: On a deploy, requests in flight get this long to finish.
graceful_timeout = 30
#: Behind a proxy that keeps connections open.
keepalive = 5
#: A worker is replaced after this many requests (and a random jitter), so that a leak,
#: if one ever appears, cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
#: The access log on standard output, with the request id the application answered with
#: (the proxy's X-Request-ID when it sent one), the time taken in microseconds, and no
#: query strings' secrets beyond what the URL holds.
accesslog = os.environ.get("PORTAL_ACCESS_LOG", "-")
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(D)sus [%({x-request-id}o)s] "%(a)s"'
errorlog = "-"
loglevel = os.environ.get("PORTAL_LOG_LEVEL", "info")
