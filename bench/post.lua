-- wrk script for bench/run's POST rows: every request posts the same FHIR JSON body, read once
-- from the file named after `--`. The BENCH line at the end is report.lua's.
--
--   wrk ... -s bench/post.lua http://host:port/fhir/ValueSet/$expand -- BODY_FILE
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

init = function(args)
  local file = assert(io.open(args[1], "rb"), "cannot read " .. tostring(args[1]))
  wrk.method = "POST"
  wrk.body = file:read("*a")
  file:close()
  wrk.headers["Content-Type"] = "application/fhir+json"
end
