-- Loaded by bench/load.mjs with wrk -s <this> <url> -- <cookie file>: every
-- request carries the next Cookie header value of the file (one per line),
-- so the requests spread over many sessions instead of hitting one session
-- that stays in the CPU's caches. Each wrk thread starts at a random line.
-- The requests are formatted once, in init(); request() only picks one.
-- done() comes from wrk-report.lua (exact counters as JSON).
local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
dofile(here .. 'wrk-report.lua')

local requests, count, next_index = {}, 0, 0

function init(args)
  for line in io.lines(args[1]) do
    if line ~= '' then
      count = count + 1
      requests[count] = wrk.format(nil, nil, { Cookie = line })
    end
  end
  if count == 0 then
    error('no cookies in ' .. tostring(args[1]))
  end
  math.randomseed(os.time() + tonumber(tostring({}):match('0x(%x+)') or '0', 16))
  next_index = math.random(count) - 1
end

function request()
  next_index = next_index % count + 1
  return requests[next_index]
end
