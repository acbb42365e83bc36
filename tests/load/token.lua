-- wrk script: POST /oauth/token with grant_type=client_credentials. The service app's
-- client_secret_basic header is given on wrk's command line (see tests/load/oidc.sh):
--   wrk -t1 -c50 -d10s -s tests/load/token.lua -H "Authorization: Basic $(printf '%s:%s' ID SECRET | base64 -w0)" \
--     http://127.0.0.1:PORT/oauth/token
-- Any answer other than 2xx shows up in wrk's "Non-2xx or 3xx responses" line.
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
