-- One page driven for a fixed number of requests, its figures printed as one JSON line.
-- bench/run.py sets, per page: BENCH_REQUESTS (for each wrk thread), BENCH_METHOD,
-- BENCH_COOKIE (a signed-in session) and BENCH_BODY (a form, for a POST).
--
-- wrk counts an answer as an error (bad_status) only from status 400 up: the chat's live
-- endpoint answering 204 (nothing new), as it does to an open page, counts as a good one.
--
-- wrk itself only stops at the end of its duration (-d) or on SIGINT: a thread that has
-- had its answers says "stopped" on standard output, and bench/run.py then interrupts
-- wrk, whose run time is thus the time the requests took.

local limit = tonumber(os.getenv("BENCH_REQUESTS"))
wrk.method = os.getenv("BENCH_METHOD") or "GET"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
if wrk.body then
   wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

local answered = 0

function response(status, headers, body)
   answered = answered + 1
   if answered == limit then
      io.write("stopped\n")
      io.flush()
      wrk.thread:stop()
   end
end

function done(summary, latency, requests)
   local errors = summary.errors
   io.write(string.format(
      '{"requests": %d, "microseconds": %d, "bad_status": %d, "socket_errors": %d, '
         .. '"median_us": %d, "p95_us": %d, "bytes": %d}\n',
      summary.requests, summary.duration, errors.status,
      errors.connect + errors.read + errors.write + errors.timeout,
      latency:percentile(50), latency:percentile(95), summary.bytes))
end
