#!/bin/sh
# tests/integration/52_realtime_resume.sh: resume and delivery guarantees of
# onebox-realtime (tests/realtime/resume.js): replay from the outbox after
# ?lastEventId= / resume / auth {lastEventId}, in order before live events,
# with the complete flag (ws_replay_max=50); a disconnect with events
# published meanwhile loses and repeats nothing; duplicate, out-of-order and
# never-pushed events still arrive once and in order; and a sidecar restart
# while a publisher keeps publishing (ob_pub reconnecting, onebox.js
# reconnecting and resuming) loses and repeats nothing.
set -u
LIB=$(cd "$(dirname "$0")/../lib" && pwd)
. "$LIB/common.sh"
. "$ONEBOX_SRC/tests/realtime/rt_lib.sh"

t_init rt_resume
command -v node >/dev/null 2>&1 || t_skip "node is not installed"
rt_npm || t_bail "npm ci in tests/realtime failed"

rt_start rt ONEBOX_WS_REPLAY_MAX=50 || t_bail "onebox-realtime did not start"
rt_scenarios resume.js resume_by_query_then_live resume_by_message resume_with_auth_message \
    replay_past_the_maximum_is_incomplete disconnect_publish_reconnect_none_lost_none_twice \
    duplicate_pushes_delivered_once out_of_order_pushes_delivered_in_order \
    pushes_that_never_come_are_read_from_the_outbox admins_replay_star_events \
    onebox_js_reconnects_and_resumes

# A restart while publishing: 300 events, one every 20 ms.
export RT_COLLECT_N=300 RT_COLLECT_USER=u_restart$$ RT_COLLECT_FILE="$T/collected"
echo 0 >"$RT_COLLECT_FILE"
node "$RT_DIR/resume.js" collect_across_restart >"$T/collector.log" 2>&1 &
collector=$!
t_wait_file "$RT_COLLECT_FILE.connects" || t_bail "collector did not connect"
"$EV_PUBLISH" --db "$RT_DB" --sock "$RT_EVSOCK" --gen "$RT_COLLECT_N" --user "$RT_COLLECT_USER" \
    --interval-ms 20 --flush-ms 30000 >"$T/gen.out" 2>"$T/gen.err" &
gen=$!
_collected_at_least() { [ "$(cat "$RT_COLLECT_FILE")" -ge "$1" ]; }
t_wait_for 60 _collected_at_least 60 || t_log "collector slow: $(cat "$RT_COLLECT_FILE")"
t_ok "sidecar restarted while publishing" rt_restart rt
wait "$gen"
t_eq "publisher published everything" 0 $?
t_eq "publisher stored $RT_COLLECT_N events" "$RT_COLLECT_N" "$(wc -l <"$T/gen.out" | tr -d ' ')"
wait "$collector"
rc=$?
[ $rc -eq 0 ] || cat "$T/collector.log" >&2
t_eq "client got all $RT_COLLECT_N across the restart, once each, in order" 0 $rc
t_ok "the restarted sidecar started after the outbox" grep -q "outbox at event [1-9]" "$T/rt.log"
t_stop rt
rt_sanitizer_clean rt
t_done
