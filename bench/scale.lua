-- wrk script for bench/scale: each request takes the next id of the file in SCALE_IDS and puts it
-- in place of {id} in the path template SCALE_PATH; prints one BENCH line as report.lua does.
local ids = {}
for line in io.lines(os.getenv("SCALE_IDS")) do
  if line ~= "" then ids[#ids + 1] = line end
end
local template = os.getenv("SCALE_PATH")
local next_id = 0

init = function(args)
  next_id = math.random(#ids) - 1
end

request = function()
  next_id = next_id % #ids + 1
  return wrk.format("GET", (template:gsub("{id}", ids[next_id])))
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.status, e.timeout, latency:percentile(50), latency:percentile(99)))
end
