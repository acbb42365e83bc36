#!/usr/bin/env bash
# Builds the Debian 12 base image `authify-base:bookworm` that docker/*.Dockerfile start FROM,
# without any image registry: debootstrap (minbase) from the Debian mirror this machine's apt uses,
# then `docker import`, then the security updates applied in one `docker build` step.
# Idempotent: does nothing when the image exists. Needs root, debootstrap and a running dockerd.
#   AUTHIFY_DEBIAN_MIRROR=http://...   the mirror (default: the one in /etc/apt/sources*)
#   AUTHIFY_BASE_IMAGE=name:tag        the image (default authify-base:bookworm)
set -euo pipefail

IMAGE=${AUTHIFY_BASE_IMAGE:-authify-base:bookworm}
SUITE=bookworm

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
    echo "base image $IMAGE exists"
    exit 0
fi
[ "$(id -u)" = 0 ] || { echo "docker/base-image.sh: debootstrap needs root" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "docker/base-image.sh: apt-get install debootstrap" >&2; exit 1; }

# The URI of the first apt source listing suite $1 (deb822 .sources, then one-line .list files).
apt_uri() {
    local suite=$1 uri
    uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v s="$suite" 'BEGIN { RS = "" } {
        u = ""; hit = 0; n = split($0, line, "\n")
        for (i = 1; i <= n; i++) {
            if (line[i] ~ /^URIs:/) { split(line[i], f, /[ \t]+/); u = f[2] }
            if (line[i] ~ /^Suites:/) { m = split(line[i], f, /[ \t]+/); for (j = 2; j <= m; j++) if (f[j] == s) hit = 1 }
        }
        if (hit && u != "") { print u; exit }
    }')
    if [ -z "$uri" ]; then
        uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
            | awk -v s="$suite" '$1 == "deb" { i = 2; if ($i ~ /^\[/) while ($i !~ /\]$/) i++; if ($i ~ /^\[/ || $i ~ /\]$/) i++; if ($(i + 1) == s) { print $i; exit } }')
    fi
    printf '%s' "${uri%/}"
}
MIRROR=${AUTHIFY_DEBIAN_MIRROR:-$(apt_uri "$SUITE")}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY=$(apt_uri "$SUITE-security")
SECURITY=${SECURITY:-http://deb.debian.org/debian-security}
echo "building $IMAGE from $MIRROR ($SUITE, minbase; security updates from $SECURITY)"

ROOT=$(mktemp -d /var/tmp/authify-rootfs.XXXXXX)
trap 'rm -rf --one-file-system "$ROOT"' EXIT
debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" >"$ROOT.log" 2>&1 \
    || { tail -n 30 "$ROOT.log" >&2; rm -f "$ROOT.log"; exit 1; }
rm -f "$ROOT.log"
cat >"$ROOT/etc/apt/sources.list" <<SOURCES
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY $SUITE-security main
SOURCES
cat >"$ROOT/etc/apt/apt.conf.d/90authify-image" <<'APT'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
APT
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/cache/apt/archives/*.deb

tar -C "$ROOT" --numeric-owner -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV LANG=C.UTF-8' -c 'CMD ["bash"]' - "$IMAGE-rootfs" >/dev/null
docker build -q -t "$IMAGE" - >/dev/null <<DOCKERFILE
FROM $IMAGE-rootfs
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get -y upgrade \
    && apt-get clean && rm -rf /var/lib/apt/lists/*
DOCKERFILE
docker rmi "$IMAGE-rootfs" >/dev/null   # untags it; its layer stays under $IMAGE
echo "built $IMAGE"
