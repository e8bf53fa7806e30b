-- wrk script for webhooks.py: send the requests a file lists, each exactly once, spread over
-- wrk's connections (run it with -t1: one list, one thread), count the answers' statuses, and
-- stop once the last answer is in.
--
--   wrk -t1 -c16 -d300s -s sequence.lua URL -- LIST [PATH FIELD]
--
-- With PATH and FIELD, each line of LIST is posted to PATH as the form FIELD=<line> (Mollie's
-- webhook: /webhooks/mollie id=tr_...); without them each line is a path to GET.
--
-- wrk itself only knows how to run for a duration. Here a connection takes the next line when
-- wrk asks it for its delay (wrk calls delay() once before each request()); once every line is
-- taken the rest park, the last answer prints BENCH-SENT and stops the thread, and the caller
-- then sends SIGINT to end wrk's main sleep. The rate is timed here, from the first request to the
-- last answer, on the monotonic clock (wrk's own duration would include that wait).

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local PARKED_MS = 3600 * 1000
local clock = ffi.new("bench_timespec")

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1000000 + math.floor(tonumber(clock.tv_nsec) / 1000)
end

local threads = {}
local requests = {}

-- Globals, so that done() can read them from the thread (thread:get).
total, taken, sent, answered, started_us, finished_us = 0, 0, 0, 0, 0, 0
statuses = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local list, path, field = args[1], args[2], args[3]
  for line in io.lines(list) do
    if path then
      local headers = {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["User-Agent"] = "Mollie HTTP client/1.0",
      }
      requests[#requests + 1] = wrk.format("POST", path, headers, field .. "=" .. line)
    else
      requests[#requests + 1] = wrk.format("GET", line, {})
    end
  end
  total = #requests
end

function delay()
  if taken >= total then
    return PARKED_MS -- every line is taken: this connection sends nothing more
  end
  taken = taken + 1
  return 0
end

function request()
  if taken == 0 then
    return requests[1] -- wrk's own look at the request before it starts: not sent
  end
  sent = sent + 1
  if sent == 1 then
    started_us = now_us()
  end
  return requests[math.min(sent, total)]
end

function response(status, headers, body)
  answered = answered + 1
  local code = tostring(status)
  statuses[code] = (statuses[code] or 0) + 1
  if answered == total then
    finished_us = now_us()
    io.write("BENCH-SENT\n")
    io.flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, per_thread)
  local thread = threads[1]
  local codes = {}
  for code, count in pairs(thread:get("statuses")) do
    codes[#codes + 1] = string.format('"%s":%d', code, count)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"total":%d,"sent":%d,"answered":%d,"elapsed_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"statuses":{%s},"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d}}\n',
    thread:get("total"), thread:get("sent"), thread:get("answered"),
    thread:get("finished_us") - thread:get("started_us"),
    latency:percentile(50), latency:percentile(99), latency.max,
    table.concat(codes, ","), e.connect, e.read, e.write, e.timeout))
  io.flush()
end
