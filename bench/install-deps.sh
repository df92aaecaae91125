#!/bin/sh
# bench/install-deps.sh: the packages only the benchmarks need, on top of
# contrib/install-deps.sh (which `make` already relies on).
#
#   libnginx-mod-nchan  nchan, the fan-out peer (inside nginx)
#   isync               mbsync, the initial-sync peer
#   wrk                 the HTTP load generator for the REST comparison
#   npm socket.io       the Socket.IO peer, pinned in bench/package.json,
#                       installed into bench/node_modules
#
# Idempotent: when everything is there it only runs dpkg-query and a stat.
#   bench/install-deps.sh          install what is missing
#   bench/install-deps.sh --check  exit 1 if anything is missing
set -eu

here=$(cd "$(dirname "$0")" && pwd)
PKGS="libnginx-mod-nchan isync wrk"

missing=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$st" = "installed" ] || missing="$missing $p"
done
need_npm=0
[ -f "$here/node_modules/socket.io/package.json" ] || need_npm=1

if [ "${1:-}" = "--check" ]; then
    [ -z "$missing" ] && [ "$need_npm" -eq 0 ] && exit 0
    echo "bench deps missing:$missing$( [ $need_npm -eq 1 ] && echo ' npm:socket.io')" >&2
    exit 1
fi

if [ -n "$missing" ]; then
    echo "bench deps: installing:$missing"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # The nginx module package must not start a system nginx.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
        $SUDO chmod 755 /usr/sbin/policy-rc.d
        trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    $SUDO apt-get install -y -q --no-install-recommends $missing
fi
if [ "$need_npm" -eq 1 ]; then
    command -v npm >/dev/null 2>&1 || { echo "bench deps: npm missing (run make deps)" >&2; exit 1; }
    echo "bench deps: npm install (socket.io) in bench/"
    (cd "$here" && npm install --no-audit --no-fund --loglevel=error)
fi
exit 0
