#!/usr/bin/env bash
# `make install PREFIX=... DESTDIR=...` puts the binaries, the web-server
# configs, the test page, onebox.js, the rules file and the systemd units
# (with PREFIX filled in) under DESTDIR, and the units pass systemd's checks.
set -u
. "$ONEBOX_SRC/tests/lib/common.sh"
t_init install
t_ok "make install" make -s -C "$ONEBOX_SRC" install PREFIX=/opt/onebox DESTDIR="$T/root"
r="$T/root/opt/onebox"
for b in onebox onebox-api onebox-syncd onebox-realtime; do
    t_ok "bin/$b installed and runnable" "$r/bin/$b" --help
done
for f in share/onebox/www/websocket-test.html share/onebox/onebox.js share/onebox/openapi.yaml \
         share/onebox/categories.rules share/onebox/nginx/onebox.conf share/onebox/lighttpd/onebox.conf \
         share/onebox/apache/onebox.conf share/onebox/systemd/onebox.target; do
    t_ok "$f installed" test -s "$r/$f"
done
units=$(cat "$r"/share/onebox/systemd/*.service)
t_contains "units start the installed binaries" "$units" "ExecStart=/opt/onebox/bin/onebox-syncd"
t_not_contains "no placeholder is left" "$units$(cat "$r/share/onebox/systemd/onebox-common.conf")" "@PREFIX@"
if command -v systemd-analyze >/dev/null; then
    mkdir -p "$T/units"
    sed "s|/opt/onebox/bin|$r/bin|; s|/opt/onebox/share|$r/share|" "$r"/share/onebox/systemd/onebox-api.service >"$T/units/onebox-api.service"
    out=$(systemd-analyze verify --man=no "$T/units/onebox-api.service" 2>&1 | grep -v "not found\|Failed to open")
    t_eq "systemd-analyze verify finds nothing in the api unit" "" "$out"
fi
t_done
