#!/bin/sh
# tests/integration/51_realtime_limits.sh: onebox-realtime's limits with real
# clients (tests/realtime/limits.js): per-user connections, rooms, message
# rate, frame size, the slow reader (1008) while others keep receiving, the
# heartbeat, connection attempts per address, and the fd ceiling — each
# answered with `error` and the documented close code, the sidecar unharmed.
set -u
LIB=$(cd "$(dirname "$0")/../lib" && pwd)
. "$LIB/common.sh"
. "$ONEBOX_SRC/tests/realtime/rt_lib.sh"

t_init rt_limits
command -v node >/dev/null 2>&1 || t_skip "node is not installed"
rt_npm || t_bail "npm ci in tests/realtime failed"

rt_start rt ONEBOX_WS_RATE_PER_MIN=20 ONEBOX_WS_SEND_QUEUE_MAX=262144 ONEBOX_WS_HEARTBEAT=2 \
    ONEBOX_WS_CONN_PER_IP_PER_MIN=100000 || t_bail "onebox-realtime did not start"
rt_scenarios limits.js connections_per_user rooms_per_connection messages_per_minute \
    frame_size_limit slow_reader_closed_others_keep_receiving heartbeat_drops_silent_peer
t_ok "slow reader logged" grep -q "closing slow reader" "$T/rt.log"
t_stop rt
rt_sanitizer_clean rt

rt_start rt_ip ONEBOX_WS_CONN_PER_IP_PER_MIN=5 || t_bail "second sidecar did not start"
rt_scenarios limits.js connection_attempts_per_address
t_stop rt_ip
rt_sanitizer_clean rt_ip

rt_start rt_fd ONEBOX_WS_MAX_FDS=80 || t_bail "third sidecar did not start"
t_ok "fd ceiling below RLIMIT_NOFILE logged" grep -q "fd ceiling 80 (RLIMIT_NOFILE" "$T/rt_fd.log"
rt_scenarios limits.js fd_ceiling
t_stop rt_fd
rt_sanitizer_clean rt_fd
t_done
