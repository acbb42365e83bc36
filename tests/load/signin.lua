-- wrk script: POST /login with a valid double-submit CSRF pair; stops each thread after
-- `limit` responses when LIMIT is set (for the 10,000 sign-ins RSS figure).
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
