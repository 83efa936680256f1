-- wrk script for bench/soak: a mixed load over rotating real codes, 80% $validate-code,
-- 15% $lookup, 5% text-filtered $expand; prints one BENCH line like report.lua.
local codes = {}
local words = {"fracture", "diabetes", "pain", "infection", "neoplasm", "injury", "chronic", "acute", "femur", "heart"}
local n = 0
local pause_ms = 0

init = function(args)
  pause_ms = tonumber(args[2] or "0") or 0
  -- The code list is undotted and also names chapters ("1") and blocks ("A00-A09"); the codes
  -- themselves are dotted after their third character.
  for line in io.lines(args[1]) do
    local code = line:match("^(%S+)")
    if code and not code:find("-", 1, true) and not code:match("^%d+$") then
      if #code > 3 then code = code:sub(1, 3) .. "." .. code:sub(4) end
      codes[#codes + 1] = code
    end
  end
end

request = function()
  n = n + 1
  local code = codes[(n * 7919) % #codes + 1]
  local pick = n % 20
  if pick == 0 then
    return wrk.format("GET", "/fhir/ValueSet/$expand?url=http%3A%2F%2Fhl7.org%2Ffhir%2Fsid%2Ficd-10-cm%3Ffhir_vs&count=20&filter=" .. words[math.floor(n / 20) % #words + 1])
  elseif pick <= 3 then
    return wrk.format("GET", "/fhir/CodeSystem/$lookup?system=http%3A%2F%2Fhl7.org%2Ffhir%2Fsid%2Ficd-10-cm&code=" .. code)
  else
    return wrk.format("GET", "/fhir/CodeSystem/$validate-code?url=http%3A%2F%2Fhl7.org%2Ffhir%2Fsid%2Ficd-10-cm&code=" .. code)
  end
end

-- SOAK_PAUSE_MS: a pause before each request on each connection, to soak below saturation.
delay = function()
  return pause_ms
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
