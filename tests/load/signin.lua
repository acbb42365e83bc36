-- wrk script: POST /login with a valid double-submit CSRF pair (cookie and form field equal).
-- Reports any answer other than 303 on stderr. LIMIT (per thread) stops a thread early; wrk
-- itself still waits for its full -d.
local token = string.rep("A", 43)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "authify_csrf=" .. token
wrk.body = "csrf_token=" .. token .. "&email=load%40example.com&password=load-test-password"

local limit = tonumber(os.getenv("LIMIT") or "0")
local count = 0
function response(status, headers, body)
  if status ~= 303 then
    io.stderr:write("unexpected status " .. status .. "\n")
  end
  count = count + 1
  if limit > 0 and count >= limit then
    wrk.thread:stop()
  end
end
