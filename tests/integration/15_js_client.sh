#!/usr/bin/env bash
# The browser/Node client library (contrib/onebox.js) and the test page:
# node:test suites in tests/js (reconnect with backoff, resume by
# lastEventId, duplicate drop, 4401 not retried, the page in headless
# Chromium).  Installs the pinned `ws` dev dependency from the npm registry.
set -u
cd "$ONEBOX_SRC/tests/js" || exit 1
if ! npm install --no-audit --no-fund --loglevel=error >npm-install.log 2>&1; then
    cat npm-install.log
    echo "0 passed, 1 failed"
    exit 1
fi
# Chromium keeps its own scratch dirs in TMPDIR: a private one, removed after.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ob-js.XXXXXX") || exit 1
out=$(TMPDIR=$tmp node --test 2>&1)
rc=$?
rm -rf "$tmp"
echo "$out" | tail -n 12
pass=$(echo "$out" | sed -n 's/^# pass \([0-9]*\)/\1/p')
fail=$(echo "$out" | sed -n 's/^# fail \([0-9]*\)/\1/p')
echo "${pass:-0} passed, ${fail:-1} failed"
exit $rc
