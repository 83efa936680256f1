-- wrk script for bench/run's rotating rows: each request takes the next line of a paths file
-- (`KIND<TAB>PATH`, written by `report.py paths`), so a row drives thousands of real codes rather
-- than one repeated code. Each thread starts at its own place in the list. The BENCH line at the
-- end is report.lua's.
--
--   wrk ... -s bench/rotate.lua http://host:port -- PATHS_FILE
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local paths = {}
local n = 0

init = function(args)
  for line in io.lines(args[1]) do
    local path = line:match("^[^\t]*\t(.+)$")
    if path then paths[#paths + 1] = path end
  end
  assert(#paths > 0, "no paths in " .. tostring(args[1]))
  -- Threads start apart (`offset`, set by setup), so that they do not ask for the same code at once.
  n = offset or 0
end

local n_threads = 0
setup = function(thread)
  thread:set("offset", n_threads * 2503)
  n_threads = n_threads + 1
end

request = function()
  n = n + 1
  return wrk.format("GET", paths[n % #paths + 1])
end
