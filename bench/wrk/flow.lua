-- One wrk script for every single-request flow of `make bench`, configured by environment:
--   FLOW_METHOD   GET or POST
--   FLOW_PATH     request path (and query)
--   FLOW_AUTH     Authorization header value (Basic … or Bearer …), optional
--   FLOW_BODY     form body; the text CODE in it is replaced by one line of FLOW_CODES per request
--   FLOW_CODES    file with one single-use value (authorization code) a line, optional; each
--                 thread takes every Nth line, and one line is used by exactly one request
--   FLOW_EXPECT   text every response body must contain (besides status 200)
--   FLOW_OUT      where done() writes the results as one JSON object
-- Latencies are wrk's (corrected for coordinated omission per its design), in microseconds.

local env = os.getenv
local method = env("FLOW_METHOD") or "GET"
local path = env("FLOW_PATH") or "/"
local auth = env("FLOW_AUTH")
local body_tmpl = env("FLOW_BODY")
local codes_file = env("FLOW_CODES")
local expect = env("FLOW_EXPECT") or ""

local threads = {}
local nthreads = 0

function setup(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
  table.insert(threads, thread)
end

-- per-thread state
errors, ok, exhausted, first_error = 0, 0, 0, ""
local codes, ci = nil, 0
local headers = { ["Accept"] = "application/json" }
local static_req

function init(args)
  if auth and auth ~= "" then headers["Authorization"] = auth end
  if body_tmpl and body_tmpl ~= "" then headers["Content-Type"] = "application/x-www-form-urlencoded" end
  if codes_file and codes_file ~= "" then
    codes = {}
    local n, i = tonumber(env("WRK_THREADS") or "2"), 0
    for line in io.lines(codes_file) do
      if line ~= "" then
        if i % n == tid then codes[#codes + 1] = line end
        i = i + 1
      end
    end
  else
    static_req = wrk.format(method, path, headers, body_tmpl ~= "" and body_tmpl or nil)
  end
end

function request()
  if static_req then return static_req end
  ci = ci + 1
  local code = codes[ci]
  if not code then
    exhausted = exhausted + 1
    code = "exhausted"
  end
  return wrk.format(method, path, headers, (body_tmpl:gsub("CODE", code)))
end

function response(status, hdrs, body)
  if status == 200 and (expect == "" or (body and body:find(expect, 1, true))) then
    ok = ok + 1
  else
    errors = errors + 1
    if first_error == "" then first_error = status .. " " .. string.sub(body or "", 1, 200) end
  end
end

local function jstr(s)
  return '"' .. tostring(s):gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

function done(summary, latency, requests)
  local errs, oks, exh, first = 0, 0, 0, ""
  for _, t in ipairs(threads) do
    errs = errs + t:get("errors")
    oks = oks + t:get("ok")
    exh = exh + t:get("exhausted")
    if first == "" then first = t:get("first_error") end
  end
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  local dur = summary.duration / 1e6
  local out = string.format(
    '{"requests":%d,"ok":%d,"errors":%d,"socket_errors":%d,"exhausted":%d,"rps":%.1f,' ..
    '"p50_us":%d,"p99_us":%d,"p999_us":%d,"duration_s":%.3f,"first_error":%s}\n',
    summary.requests, oks, errs + socket_errors, socket_errors, exh, oks / dur,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), dur,
    first == "" and "null" or jstr(first))
  local f = io.open(env("FLOW_OUT") or "/dev/stdout", "w")
  f:write(out)
  f:close()
end
