#!/usr/bin/env bash
# Signs in as a browser would (GET /login for the form and its cookies, POST /login with them)
# and prints the session cookie as `name=value`. usage: session-cookie.sh URL EMAIL PASSWORD
set -euo pipefail
url=$1 email=$2 password=$3
jar=$(mktemp); trap 'rm -f "$jar"' EXIT
csrf=$(curl -fs -c "$jar" -b "$jar" "$url/login" | grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
curl -s -o /dev/null -c "$jar" -b "$jar" -X POST "$url/login" \
  --data-urlencode "csrf_token=$csrf" --data-urlencode "email=$email" --data-urlencode "password=$password"
awk '$6 ~ /authify_session$/ {print $6"="$7}' "$jar" | tail -1
