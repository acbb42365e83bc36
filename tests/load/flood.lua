-- wrk script: one connection's requests at most every FLOOD_DELAY_MS milliseconds (wrk has no
-- rate option), so floods before and after a change can be compared at the same request rate.
local pause = tonumber(os.getenv("FLOOD_DELAY_MS") or "0")
function delay()
  return pause
end
