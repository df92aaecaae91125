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
sh "$here/../contrib/install-deps.sh" --check $PKGS 2>/dev/null || missing=" $PKGS"
need_npm=0
[ -f "$here/node_modules/socket.io/package.json" ] || need_npm=1

if [ "${1:-}" = "--check" ]; then
    [ -z "$missing" ] && [ "$need_npm" -eq 0 ] && exit 0
    echo "bench deps missing:$missing$( [ $need_npm -eq 1 ] && echo ' npm:socket.io')" >&2
    exit 1
fi

[ -z "$missing" ] || sh "$here/../contrib/install-deps.sh" $PKGS
if [ "$need_npm" -eq 1 ]; then
    command -v npm >/dev/null 2>&1 || { echo "bench deps: npm missing (run make deps)" >&2; exit 1; }
    echo "bench deps: npm install (socket.io) in bench/"
    (cd "$here" && npm install --no-audit --no-fund --loglevel=error)
fi
exit 0
