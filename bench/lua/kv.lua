-- wrk script for bench/kv-vs-etcd.sh: the same key/value workload against weft and etcd.
--
-- Environment (read by every wrk thread):
--   BENCH_API    weft | etcd3 | etcd2
--   BENCH_OP     put | get | preload (preload writes every key once, then stops)
--   BENCH_READ   weft: consistent | default | stale; etcd3: linearizable | serializable;
--                etcd2: quorum | local
--   BENCH_KEYS   number of distinct keys (default 10000)
-- Keys are 16 bytes ("benchkey" + 8 digits); values are 128 bytes.
-- done() prints one parseable line: BENCHRESULT requests=… rps=… p50_us=… p99_us=… errors=…

local api = os.getenv("BENCH_API") or "weft"
local op = os.getenv("BENCH_OP") or "put"
local read_mode = os.getenv("BENCH_READ") or ""
local nkeys = tonumber(os.getenv("BENCH_KEYS") or "10000")

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function base64(s)
   local out = {}
   for i = 1, #s, 3 do
      local a, b, c = s:byte(i, i + 2)
      local n = a * 65536 + (b or 0) * 256 + (c or 0)
      local c1 = math.floor(n / 262144) % 64
      local c2 = math.floor(n / 4096) % 64
      local c3 = math.floor(n / 64) % 64
      local c4 = n % 64
      out[#out + 1] = b64chars:sub(c1 + 1, c1 + 1) .. b64chars:sub(c2 + 1, c2 + 1)
         .. (b and b64chars:sub(c3 + 1, c3 + 1) or "=") .. (c and b64chars:sub(c4 + 1, c4 + 1) or "=")
   end
   return table.concat(out)
end

local function key(i)
   return string.format("benchkey%08d", i)
end

-- 128 bytes, URL- and form-safe, the same for every key.
local value = string.rep("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_", 2)
assert(#value == 128)
local value_b64 = base64(value)

local threads = {}
local thread_count = 0

function setup(thread)
   thread_count = thread_count + 1
   thread:set("tid", thread_count - 1)
   table.insert(threads, thread)
end

local requests_built = {}

-- Builds the request for key index i.
local function build(i)
   local k = key(i)
   if api == "weft" then
      if op == "get" then
         local q = ""
         if read_mode == "consistent" then q = "?consistent" elseif read_mode == "stale" then q = "?stale" end
         return wrk.format("GET", "/v1/kv/" .. k .. q)
      end
      return wrk.format("PUT", "/v1/kv/" .. k, nil, value)
   elseif api == "etcd3" then
      if op == "get" then
         local body = '{"key":"' .. base64(k) .. '"'
         if read_mode == "serializable" then body = body .. ',"serializable":true' end
         return wrk.format("POST", "/v3/kv/range", { ["Content-Type"] = "application/json" }, body .. "}")
      end
      return wrk.format("POST", "/v3/kv/put", { ["Content-Type"] = "application/json" },
         '{"key":"' .. base64(k) .. '","value":"' .. value_b64 .. '"}')
   elseif api == "etcd2" then
      if op == "get" then
         return wrk.format("GET", "/v2/keys/" .. k .. (read_mode == "quorum" and "?quorum=true" or ""))
      end
      return wrk.format("PUT", "/v2/keys/" .. k,
         { ["Content-Type"] = "application/x-www-form-urlencoded" }, "value=" .. value)
   end
   error("unknown BENCH_API " .. api)
end

local counter = 0
local nthreads = 1

function init(args)
   nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
   -- Pre-build every request once: the load generator should spend its CPU on sockets, not on strings.
   for i = 0, nkeys - 1 do
      requests_built[i] = build(i)
   end
end

-- Each thread walks all keys with a stride coprime to nkeys, starting at a different offset, so keys are
-- spread evenly; preload gives each thread its own share (tid, tid + T, tid + 2T, …) and stops after it.
function request()
   local i
   if op == "preload" then
      i = tid + nthreads * counter
      if i >= nkeys then i = i % nkeys end
   else
      i = (tid * 1237 + counter * 7919) % nkeys
   end
   counter = counter + 1
   return requests_built[i]
end

if op == "preload" then
   -- Stop once this thread's share has been answered, with a margin for requests still in flight on its
   -- other connections (the extra requests wrap around and rewrite keys: harmless).
   local responses = 0
   function response(status, headers, body)
      responses = responses + 1
      if responses >= math.ceil((nkeys - tid) / nthreads) + 64 then
         wrk.thread:stop()
      end
   end
end

function done(summary, latency, requests)
   local secs = summary.duration / 1e6
   local e = summary.errors
   io.write(string.format(
      "BENCHRESULT requests=%d seconds=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.0f "
         .. "non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
      summary.requests, secs, summary.requests / secs, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, latency.mean, e.status, e.connect, e.read, e.write, e.timeout))
end
