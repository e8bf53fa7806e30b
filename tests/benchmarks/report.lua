-- wrk script for ledger_pages.py: optional cache-busting, and one JSON line of results.
--
-- BENCH_BUST=<salt> appends "_=<salt>-<n>" to the query, a new n per request, so every request
-- misses the response cache (the app ignores the unknown parameter; the cache key includes the
-- whole query). The salt keeps a warm-up run's keys apart from the measured run's. Without it
-- the same request is sent every time. Both go through this `request` function, so wrk does
-- the same work per request either way.

local salt = os.getenv("BENCH_BUST")
local counter = 0
local fixed = nil

request = function()
  if salt == nil or salt == "" then
    fixed = fixed or wrk.format()
    return fixed
  end
  counter = counter + 1
  local sep = string.find(wrk.path, "?", 1, true) and "&" or "?"
  return wrk.format(nil, wrk.path .. sep .. "_=" .. salt .. "-" .. counter)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
