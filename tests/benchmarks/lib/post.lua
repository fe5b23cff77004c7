-- wrk script: POSTs one JSON body with extra headers and prints one machine-readable result line.
--   BENCH_BODY_FILE  the request body; each "__UNIQUE__" in it is replaced by a value no other request of any run
--                    has (a random run id and a counter), so that every request is a cache miss
--   BENCH_HEADERS    extra headers, "Name: value" separated by '|'
--   BENCH_PACE_MS    if set, each connection waits this long between requests: a fixed offered load instead of
--                    as much as the target takes
local function read_file(path)
  local file = assert(io.open(path, "rb"), "cannot open " .. tostring(path))
  local content = file:read("*a")
  file:close()
  return content
end

wrk.method = "POST"
wrk.body = read_file(os.getenv("BENCH_BODY_FILE"))
wrk.headers["Content-Type"] = "application/json"
for header in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^|]+") do
  local name, value = string.match(header, "^%s*([^:]+):%s*(.-)%s*$")
  if name then
    wrk.headers[name] = value
  end
end

if string.find(wrk.body, "__UNIQUE__", 1, true) then
  local random = assert(io.open("/dev/urandom", "rb"))
  local run = string.gsub(random:read(8), ".", function(c) return string.format("%02x", string.byte(c)) end)
  random:close()
  local template = wrk.body
  local counter = 0
  function request()
    counter = counter + 1
    local body = string.gsub(template, "__UNIQUE__", run .. "-" .. counter)
    return wrk.format(nil, nil, nil, body)
  end
end

local pace = tonumber(os.getenv("BENCH_PACE_MS") or "")
if pace then
  function delay()
    return pace
  end
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
