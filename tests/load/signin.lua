-- wrk script: password sign-ins through real flows. Each sign-in is two requests on one
-- connection's turn: GET /login (a new flow: its cookie and the form's csrf_token), then
-- POST /login with both. Reports any POST answer other than 303 on stderr; `done` prints how
-- many sign-ins completed per second (GETs are cheap and not counted).
local pending = {}   -- flows harvested from GET /login, waiting for their POST
signins = 0   -- globals: `done` reads them from each thread with thread:get
failures = 0
local body = "&email=load%40example.com&password=load-test-password"
-- SIGNIN_SPREAD=1: each sign-in from its own client address (X-Forwarded-For, for a server
-- that trusts the loopback proxy), as many users would come, not one client.
local spread = os.getenv("SIGNIN_SPREAD") == "1"
local n = 0

function request()
  local flow = table.remove(pending)
  if flow then
    return wrk.format("POST", "/login", {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["Cookie"] = "authify_flow=" .. flow.cookie,
    }, "csrf_token=" .. flow.csrf .. body)
  end
  if spread then
    n = n + 1
    return wrk.format("GET", "/login", {
      ["X-Forwarded-For"] = string.format("10.%d.%d.%d", n % 200, math.floor(n / 200) % 250, 1 + n % 7),
    })
  end
  return wrk.format("GET", "/login")
end

function response(status, headers, resp)
  if status == 200 then
    local cookie = (headers["Set-Cookie"] or headers["set-cookie"] or ""):match("authify_flow=([^;]+)")
    local csrf = resp:match('name="csrf_token" value="([^"]+)"')
    if cookie and csrf then
      table.insert(pending, { cookie = cookie, csrf = csrf })
    end
  elseif status == 303 then
    signins = signins + 1
  else
    failures = failures + 1
    io.stderr:write("unexpected status " .. status .. "\n")
  end
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local total, failed = 0, 0
  for _, t in ipairs(threads) do
    total = total + t:get("signins")
    failed = failed + t:get("failures")
  end
  local secs = summary.duration / 1e6
  io.write(string.format("Sign-ins/sec: %.1f (%d in %.1f s, %d refused)\n", total / secs, total, secs, failed))
end
