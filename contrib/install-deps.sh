#!/bin/sh
# Installs every Debian package onebox needs to build, run, test and bench.
# Idempotent: when everything is present it only runs dpkg-query (fast).
#   contrib/install-deps.sh          install what is missing
#   contrib/install-deps.sh --check  exit 1 if anything is missing, install nothing
#   contrib/install-deps.sh [--check] PKG...
#                                    the same for other packages (bench/ uses it)
#
# libcurl: Debian's libetpan-dev depends on libcurl4-gnutls-dev, which
# conflicts with libcurl4-openssl-dev; both give the same libcurl API.
set -eu

PKGS="build-essential pkg-config
libfcgi-dev libwebsockets-dev libwebsockets-evlib-ev libev-dev libjansson-dev libcurl4-gnutls-dev libetpan-dev
libssl-dev libsqlite3-dev libcunit1-dev
nginx spawn-fcgi dovecot-imapd dovecot-core lighttpd
openssl ca-certificates curl socat valgrind procps iproute2
chromium"

check=0
[ "${1:-}" = "--check" ] && { check=1; shift; }
[ $# -gt 0 ] && PKGS="$*"

missing=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$st" = "installed" ] || missing="$missing $p"
done

# Node.js (for the ws/Playwright test clients) may come from another vendor's
# nodejs package that bundles npm and conflicts with Debian's npm: ask for the
# commands, not the package names.
if [ $# -eq 0 ]; then
    command -v node >/dev/null 2>&1 || missing="$missing nodejs"
    command -v npm >/dev/null 2>&1 || missing="$missing npm"
fi

if [ $check -eq 1 ]; then
    [ -z "$missing" ] && exit 0
    echo "missing packages:$missing" >&2
    exit 1
fi
[ -z "$missing" ] && { echo "deps: all packages present"; exit 0; }

echo "deps: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# nginx and dovecot must not start system-wide services on install: onebox
# runs its own instances on loopback with temp configs.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -q --no-install-recommends $missing
