#!/bin/sh
# bench/run.sh: onebox against its peers, side by side, on this machine
# (`make bench`).  See bench/README.md for what each comparison measures
# and how to read the table.
#
#   fan-out  onebox-realtime vs nchan vs Socket.IO under bench/wsload,
#            per-user and broadcast, at 2k / 10k / 19k connections
#   REST     wrk through nginx: onebox-api vs bench/fcgi_hello
#   sync     onebox-syncd vs mbsync initial sync of one Dovecot mailbox;
#            IDLE -> WebSocket latency over Dovecot's own notify delay;
#            RSS per idle IMAP account at 100 and 1,000 accounts
#
# Servers run on core 0, loaders and clients on core 1 (taskset); the
# initial sync is also timed with both clients free to use both cores.  Every
# server binds 127.0.0.1, lives in a temp dir (tmpfs when /dev/shm is
# there) and is stopped by its PID (tests/lib/common.sh).  A comparison
# that cannot run prints "not measured: <reason>"; nothing is made up.
#
# Environment:
#   BENCH_QUICK=1   a ~2-minute smoke run with small counts
#   BENCH_ONLY=fanout,rest,sync   run only these sections
#   BENCH_FAN_NS="2000 19000"     other fan-out connection counts
#   BENCH_FAN_SERVERS="onebox"   only these fan-out servers (nchan sio onebox)
#   BENCH_SYNC=initial,idle,accounts   run only these parts of the sync section
#   BENCH_ACCT_NS="1000"          other idle-account counts
#   KEEP=1          keep the temp dir
#   BENCH_BIN, BENCH_TOOLS   directories of the onebox binaries / bench tools
# Output: the table on stdout and in bench/results/<YYYY-MM-DD>.md
# (bench/results/<YYYY-MM-DD>-quick.md for BENCH_QUICK=1).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
QUICK=${BENCH_QUICK:-0}
ONLY=${BENCH_ONLY:-fanout,rest,sync}
SYNC_PARTS=${BENCH_SYNC:-initial,idle,accounts}
BIN=${BENCH_BIN:-$ROOT/build/bin}   # BENCH_BIN: other onebox binaries
BB=${BENCH_TOOLS:-$ROOT/build/bench}   # BENCH_TOOLS: e.g. a sanitizer build of the tools
START_S=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

say() { printf 'bench [%3ds] %s\n' "$(($(date +%s) - START_S))" "$*" >&2; }

sh bench/install-deps.sh >&2 || { echo "bench: cannot install the bench dependencies" >&2; exit 1; }
make -s -C bench >&2 || { echo "bench: building the bench tools failed" >&2; exit 1; }

ulimit -n "$(ulimit -Hn)" 2>/dev/null
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    export TMPDIR=/dev/shm       # one storage for every side: tmpfs
fi

. tests/lib/common.sh
. tests/lib/pki.sh
. tests/lib/dovecot.sh
. tests/lib/nginx.sh
t_init bench
T_TIMEOUT=30
# Servers inherit core 0 from this shell; loaders are started on core 1.
taskset -pc 0 $$ >/dev/null 2>&1 || say "taskset failed: runs are not pinned"
LOADER="taskset -c 1"

if [ "$QUICK" = 1 ]; then
    FAN_NS="500 2000"
    LAT_SECS=1 TPUT_SECS=2 WRK_SECS=2
    SYNC_MSGS=2000 IDLE_SAMPLES=10 ACCT_NS="100" MBSYNC_RUNS=1
else
    FAN_NS="2000 10000 19000"
    LAT_SECS=3 TPUT_SECS=5 WRK_SECS=5
    SYNC_MSGS=10000 IDLE_SAMPLES=200 ACCT_NS="100 1000" MBSYNC_RUNS=5
fi
FAN_NS=${BENCH_FAN_NS:-$FAN_NS}
ACCT_NS=${BENCH_ACCT_NS:-$ACCT_NS}
FAN_MAX=${FAN_NS##* }
FAN_MID=$(echo "$FAN_NS" | awk '{ print ($2 != "" ? $2 : $1) }')
if [ "$QUICK" = 1 ]; then FAN_MID=$FAN_MAX; fi
API_THREADS=4
# Every onebox daemon: env "${OB_ENV[@]}" ONEBOX_DATA_DIR=.. BINARY (t_bg needs
# a program, not a shell function, so that the PID it records is the daemon's).
OB_ENV=(env ONEBOX_LOG_LEVEL=warn ONEBOX_CATEGORIES_FILE="$ROOT/contrib/categories.rules"
    ONEBOX_API_THREADS=$API_THREADS)

# ---- small helpers ---------------------------------------------------------

# kv LINE KEY: the value of KEY=value in a "tool k=v k=v" line.
kv() {
    local x
    for x in $1; do
        case $x in "$2="*) printf '%s\n' "${x#*=}"; return 0 ;; esac
    done
    return 1
}
# num EXPR [FORMAT]: awk arithmetic, printed with FORMAT (default %.2f).
num() { awk "BEGIN { printf \"${2:-%.2f}\", $1 }"; }
# ok EXPR: awk truth.
ok() { awk "BEGIN { exit !($1) }"; }

mkdir -p "$T/out"
TARGETS=$T/out/targets.md
FAN_MD=$T/out/fanout.md
REST_MD=$T/out/rest.md
SYNC_MD=$T/out/sync.md
: >"$TARGETS"
: >"$FAN_MD"
: >"$REST_MD"
: >"$SYNC_MD"

# target DESC MEASURED TARGET RESULT
target() { printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" >>"$TARGETS"; }
verdict() { if ok "$1"; then echo pass; else echo "**miss**"; fi; }

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'; }
log_tail() { tail -n 5 "$1" 2>/dev/null | tr '\n|' '  ' | cut -c1-300; }
in_only() { case ",$ONLY," in *",$1,"*) return 0 ;; esac; return 1; }
in_sync() { case ",$SYNC_PARTS," in *",$1,"*) return 0 ;; esac; return 1; }

# ---- fan-out ---------------------------------------------------------------

declare -A FAN            # FAN[server.mode.n] = wsload line, or "nm:<reason>"
SRV_PID= SRV_WHY=

start_nchan() {
    local d=$T/nchan user=
    rm -rf "$d"
    mkdir -p "$d"
    [ "$(id -u)" -ne 0 ] || user="user root root;"
    NCHAN_PORT=$(t_free_port) || { SRV_WHY="no free port"; return 1; }
    sed -e "s|@DIR@|$d|g" -e "s|@PORT@|$NCHAN_PORT|g" -e "s|@USER@|$user|" \
        bench/peers/nchan.conf.in >"$d/nginx.conf"
    if [ ! -e /usr/lib/nginx/modules/ngx_nchan_module.so ]; then
        SRV_WHY="nchan module missing (libnginx-mod-nchan)"
        return 1
    fi
    t_bg nchan /usr/sbin/nginx -p "$d" -e "$d/error.log" -c "$d/nginx.conf" || return 1
    if ! t_wait_port 127.0.0.1 "$NCHAN_PORT" 10; then
        SRV_WHY="nginx+nchan did not start: $(log_tail "$d/error.log")"
        return 1
    fi
    SRV_PID=$(pgrep -P "$(t_pid nchan)" | head -n 1)
    [ -n "$SRV_PID" ] || { SRV_WHY="no nginx worker"; return 1; }
    SRV_URL_user="ws://127.0.0.1:$NCHAN_PORT/sub/%u"
    SRV_URL_broadcast="ws://127.0.0.1:$NCHAN_PORT/sub/%r"
    SRV_PUB=127.0.0.1:$NCHAN_PORT
    SRV_ARGS_user=()
    SRV_ARGS_broadcast=()
}
stop_nchan() { t_stop nchan; }

start_sio() {
    if [ ! -f bench/node_modules/socket.io/package.json ]; then
        SRV_WHY="socket.io not installed (bench/install-deps.sh)"
        return 1
    fi
    SIO_PORT=$(t_free_port) || return 1
    rm -f "$T/sio.sock"
    t_bg sio node bench/peers/socketio-server.js "$SIO_PORT" "$T/sio.sock" || return 1
    if ! t_wait_port 127.0.0.1 "$SIO_PORT" 15 || ! t_wait_file "$T/sio.sock" 5; then
        SRV_WHY="socket.io server did not start: $(log_tail "$T/sio.log")"
        return 1
    fi
    SRV_PID=$(t_pid sio)
    SRV_URL_user="ws://127.0.0.1:$SIO_PORT/socket.io/?EIO=4&transport=websocket&user=%u"
    SRV_URL_broadcast="ws://127.0.0.1:$SIO_PORT/socket.io/?EIO=4&transport=websocket&user=%u&room=%r"
    SRV_PUB=$T/sio.sock
    SRV_ARGS_user=(--eio --init 40 --ready '40{')
    SRV_ARGS_broadcast=(--eio --init 40 --ready '40{')
}
stop_sio() { t_stop sio; }

# onebox-realtime with a real onebox-syncd beside it (the sidecar asks
# syncd to start each user's sync on their first connection).
OBF=$T/ob-fan
start_onebox() {
    local bin
    for bin in onebox-realtime onebox-syncd; do
        if [ ! -x "$BIN/$bin" ]; then
            SRV_WHY="$BIN/$bin not built"
            return 1
        fi
    done
    mkdir -p "$OBF"
    if ! t_alive ob-fan-syncd; then
        t_bg ob-fan-syncd "${OB_ENV[@]}" ONEBOX_DATA_DIR="$OBF" "$BIN/onebox-syncd" || return 1
        t_wait_file "$OBF/run/sync.sock" 10 || say "onebox-syncd has no sync.sock: autosync calls will fail"
    fi
    OB_WS_PORT=$(t_free_port) || return 1
    rm -f "$OBF/run/events.sock"
    # Bench config, said in the README: the per-address connection-rate
    # limit is lifted (8 source addresses open 19k connections in seconds)
    # and the fd ceiling sits just under the 20,000 process limit.
    t_bg ob-fan-rt "${OB_ENV[@]}" ONEBOX_DATA_DIR="$OBF" ONEBOX_WS_PORT="$OB_WS_PORT" ONEBOX_WS_CONN_PER_IP_PER_MIN=1000000 \
        ONEBOX_WS_MAX_FDS=19968 "$BIN/onebox-realtime" || return 1
    if ! t_wait_port 127.0.0.1 "$OB_WS_PORT" 10 || ! t_wait_file "$OBF/run/events.sock" 5; then
        SRV_WHY="onebox-realtime did not start: $(log_tail "$T/ob-fan-rt.log")"
        return 1
    fi
    SRV_PID=$(t_pid ob-fan-rt)
    SRV_URL_user="ws://127.0.0.1:$OB_WS_PORT/ws?token=%t"
    SRV_URL_broadcast="ws://127.0.0.1:$OB_WS_PORT/ws?token=%t"
    SRV_PUB=$OBF/run/events.sock
    SRV_ARGS_user=(--jwt-key "$OBF/jwt.key" --ready '"connected"')
    SRV_ARGS_broadcast=(--jwt-key "$OBF/jwt.key" --init '{"type":"subscribe","room":"%r"}' --ready '"subscribed"')
}
stop_onebox() { t_stop ob-fan-rt; }

# fan_run SERVER MODE N: one wsload run against the started server.
fan_run() {
    local srv=$1 mode=$2 n=$3 url args rate out procs
    eval "url=\$SRV_URL_$mode"
    eval "args=(\"\${SRV_ARGS_$mode[@]}\")"
    rate=1000
    [ "$mode" = user ] || rate=2
    procs=4
    out=$($LOADER "$BB/wsload" --server "$srv" --url "$url" --pub "$SRV_PUB" --mode "$mode" \
        --conns "$n" --procs "$procs" --srcs 8 --server-pid "$SRV_PID" \
        --lat-rate "$rate" --lat-secs "$LAT_SECS" --tput-secs "$TPUT_SECS" --window 1000 \
        "${args[@]}" 2>>"$T/wsload.err")
    if [ -z "$out" ]; then
        FAN[$srv.$mode.$n]="nm:wsload failed: $(tail -n 2 "$T/wsload.err" | tr '\n|' '  ' | cut -c1-200)"
    elif ! _t_pid_running "$SRV_PID"; then
        FAN[$srv.$mode.$n]="nm:the server died during the run"
    elif ! ok "$(kv "$out" tput_received) > 0 && $(kv "$out" deliveries_per_cpu_s) > 0"; then
        FAN[$srv.$mode.$n]="nm:no deliveries measured ($(kv "$out" ready) ready, $(kv "$out" failed) failed; first error: $(kv "$out" error))"
    else
        FAN[$srv.$mode.$n]=$out
    fi
    say "  $srv $mode $n: $(kv "$out" deliveries_per_s 2>/dev/null || echo '-') deliveries/s, ready $(kv "$out" ready 2>/dev/null || echo '-')"
}

# The raw TCP send floor (bench/sendfloor): a process that only send()s
# onebox's per-user frame to N loopback connections, pinned and read like a
# wsload run.  FLOOR_BYTES is the payload onebox-realtime writes for wspub's
# sync_progress line: {"type":"sync_progress","data":{"userId":"u_b0001234",
# "email":"@@T<19 digits>@bench.invalid","fetched":<seq>,"total":0},
# "timestamp":"<24-char ISO>"} = 162 bytes + the digits of seq, 5-6 in a
# full run; 167 bytes + a 4-byte header = 171 bytes, as strace shows
# onebox-realtime's sendto() returning.
FLOOR_BYTES=167
declare -A FLOOR          # FLOOR[n] = median sendfloor line, or "nm:<reason>"
declare -A FLOOR_SPREAD   # FLOOR_SPREAD[n] = "min–max" µs per send over the runs
declare -A FLOOR_PACED    # FLOOR_PACED[n] = sendfloor line at onebox's deliveries/s

# floor_run N [RATE]: one sendfloor run on stdout, "" on failure.
floor_run() {
    "$BB/sendfloor" --conns "$1" --bytes "$FLOOR_BYTES" --window 1000 --secs "$TPUT_SECS" \
        --srcs 8 --procs 4 --rate "${2:-0}" --send-cpu 0 --read-cpu 1 2>>"$T/sendfloor.err"
}

# fan_floor: for each count, 3 unpaced runs (1 for BENCH_QUICK), the median
# kept, and one run paced at the deliveries/s onebox reached there.  Runs
# when onebox is among the fan-out servers: the frame is onebox's.
fan_floor() {
    local n i out runs=3 lines l rate
    case " ${BENCH_FAN_SERVERS:-nchan sio onebox} " in *" onebox "*) ;; *) return 0 ;; esac
    [ "$QUICK" = 1 ] && runs=1
    for n in $FAN_NS; do
        say "fan-out: raw TCP send floor at $n connections ($runs runs)"
        lines=
        for i in $(seq "$runs"); do
            out=$(floor_run "$n")
            [ -n "$out" ] && lines+="$out"$'\n'
        done
        if [ -z "$lines" ]; then
            FLOOR[$n]="nm:sendfloor failed: $(tail -n 2 "$T/sendfloor.err" | tr '\n|' '  ' | cut -c1-200)"
            say "  not measured: ${FLOOR[$n]#nm:}"
            continue
        fi
        lines=$(printf '%s' "$lines" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^cpu_us_per_send=/) { split($i, a, "="); print a[2], $0 } }' | sort -n)
        FLOOR[$n]=$(printf '%s\n' "$lines" | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }' | cut -d' ' -f2-)
        FLOOR_SPREAD[$n]="$(printf '%s\n' "$lines" | head -n 1 | cut -d' ' -f1)–$(printf '%s\n' "$lines" | tail -n 1 | cut -d' ' -f1)"
        say "  floor $n: $(kv "${FLOOR[$n]}" cpu_us_per_send) µs per send (runs ${FLOOR_SPREAD[$n]})"
        l=${FAN[onebox.user.$n]:-nm:not run}
        case $l in
        nm:*) FLOOR_PACED[$n]="nm:onebox not measured" ;;
        *)
            rate=$(kv "$l" deliveries_per_s)
            out=$(floor_run "$n" "$rate")
            FLOOR_PACED[$n]=${out:-nm:sendfloor failed}
            say "  floor $n at $rate sends/s: $(kv "$out" cpu_us_per_send 2>/dev/null || echo '-') µs per send"
            ;;
        esac
    done
}

fanout() {
    local srv n mode
    for srv in ${BENCH_FAN_SERVERS:-nchan sio onebox}; do
        for n in $FAN_NS; do
            say "fan-out: $srv at $n connections"
            SRV_WHY="did not start"
            if ! "start_$srv"; then
                for mode in user broadcast; do FAN[$srv.$mode.$n]="nm:$SRV_WHY"; done
                "stop_$srv" 2>/dev/null
                say "  not measured: $SRV_WHY"
                continue
            fi
            fan_run "$srv" user "$n"
            sleep 1
            fan_run "$srv" broadcast "$n"
            "stop_$srv"
        done
    done
    t_stop ob-fan-syncd
    fan_floor
}

# fan_floor_row N NCHAN_LINE: the floor as a row of the fan-out table; its
# "vs nchan" is the best any server writing one such frame per delivery with
# one send() could reach against nchan here (nchan µs ÷ floor µs).
fan_floor_row() {
    local n=$1 nl=$2 f=${FLOOR[$1]:-} ratio
    [ -n "$f" ] || return 0
    case $f in
    nm:*) echo "| $n | user | raw TCP send floor | not measured: ${f#nm:} | | | | | | | | |"; return 0 ;;
    esac
    case $nl in
    nm:*) ratio="n/a" ;;
    *) ratio="≤ $(num "$(kv "$nl" cpu_ms_per_1k) / $(kv "$f" cpu_us_per_send)" "%.2f×")" ;;
    esac
    echo "| $n | user | raw TCP send floor ($(kv "$f" frame_bytes)-byte frame) | $(num "$(kv "$f" sends) / $(kv "$f" secs)" %.0f) | $(kv "$f" cpu_us_per_send) | $(kv "$f" sends_per_cpu_s) | $ratio | - | - | - | $(num "100 * $(kv "$f" reader_cpu_s) / $(kv "$f" secs)" %.0f)% | - |"
}

# fan_floor_table: onebox's and nchan's µs per delivery beside the floor,
# unpaced and at onebox's own delivery rate.
fan_floor_table() {
    local n f p l nl spread
    [ ${#FLOOR[@]} -gt 0 ] || return 0
    echo
    echo "Raw TCP send floor (bench/sendfloor: only send() of onebox's $((FLOOR_BYTES + 4))-byte per-user frame, $FLOOR_BYTES-byte payload, to a random one of N connections; sender on core 0, 4 epoll readers on core 1, ≤ 1,000 frames outstanding; the sender's utime+stime per send). Unpaced = median of the runs (their range beside it); paced = one run at onebox's deliveries/s."
    echo
    echo "| conns | floor µs/send, unpaced (range) | floor µs/send at onebox's rate | onebox µs/delivery | nchan µs/delivery | best reachable vs nchan (nchan ÷ unpaced floor) | onebox above the floor at its rate |"
    echo "|---:|---:|---:|---:|---:|---:|---:|"
    for n in $FAN_NS; do
        f=${FLOOR[$n]:-nm:not run}
        p=${FLOOR_PACED[$n]:-nm:not run}
        l=${FAN[onebox.user.$n]:-nm:not run}
        nl=${FAN[nchan.user.$n]:-nm:not run}
        case $f in nm:*) echo "| $n | not measured: ${f#nm:} | | | | | |"; continue ;; esac
        spread=${FLOOR_SPREAD[$n]:-}
        local fu pu ou nu best above
        fu=$(kv "$f" cpu_us_per_send)
        case $p in nm:*) pu="not measured: ${p#nm:}" ;; *) pu=$(kv "$p" cpu_us_per_send) ;; esac
        case $l in nm:*) ou="-" ;; *) ou=$(kv "$l" cpu_ms_per_1k) ;; esac
        case "$l$p" in *nm:*) above="-" ;; *) above="$(num "$ou - $pu") µs" ;; esac
        case $nl in nm:*) nu="-" best="n/a" ;; *) nu=$(kv "$nl" cpu_ms_per_1k); best=$(num "$nu / $fu" "%.2f×") ;; esac
        echo "| $n | $fu ($spread) | $pu | $ou | $nu | $best | $above |"
    done
}

fan_tables() {
    local n mode srv l nl
    {
        echo "| conns | mode | server | deliveries/s | server CPU ms per 1k deliveries | deliveries per server CPU-s | vs nchan | latency p50 / p99, paced (ms) | latency p50 / p99, saturated (ms) | RSS per idle conn | loader core busy | ready / failed / closed / lost |"
        echo "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
        for n in $FAN_NS; do
            for mode in user broadcast; do
                nl=${FAN[nchan.$mode.$n]:-nm:not run}
                for srv in nchan sio onebox; do
                    l=${FAN[$srv.$mode.$n]:-nm:not run}
                    case $l in
                    nm:*)
                        echo "| $n | $mode | $srv | not measured: ${l#nm:} | | | | | | | | |"
                        continue ;;
                    esac
                    local ratio="-" rss="-"
                    case $nl in
                    nm:*) ratio="n/a" ;;
                    *) ratio=$(num "$(kv "$l" deliveries_per_cpu_s) / $(kv "$nl" deliveries_per_cpu_s)" "%.2f×") ;;
                    esac
                    # RSS per connection only from the per-user run: it opens the
                    # first connections a fresh server has seen.
                    [ "$mode" = user ] && rss=$(num "$(kv "$l" rss_per_conn_b) / 1024" "%.1f KiB")
                    echo "| $n | $mode | $srv | $(kv "$l" deliveries_per_s) | $(kv "$l" cpu_ms_per_1k) | $(kv "$l" deliveries_per_cpu_s) | $ratio | $(num "$(kv "$l" lat_p50_us)/1000" %.2f) / $(num "$(kv "$l" lat_p99_us)/1000" %.2f) | $(num "$(kv "$l" tput_p50_us)/1000" %.1f) / $(num "$(kv "$l" tput_p99_us)/1000" %.1f) | $rss | $(num "100 * $(kv "$l" loader_cpu_s) / $(kv "$l" tput_secs)" %.0f)% | $(kv "$l" ready) / $(kv "$l" failed) / $(kv "$l" closed) / $(kv "$l" tput_lost) |"
                done
                [ "$mode" = user ] && fan_floor_row "$n" "$nl"
            done
        done
        fan_floor_table
    } >"$FAN_MD"

    # Targets (issue 5).
    for n in $FAN_NS; do
        l=${FAN[onebox.user.$n]:-nm:not run}
        nl=${FAN[nchan.user.$n]:-nm:not run}
        case "$l$nl" in
        *nm:*)
            target "fan-out, per-user, deliveries per server CPU-s vs nchan, $n conns" \
                "not measured: $(case $l in nm:*) echo "onebox: ${l#nm:}" ;; *) echo "nchan: ${nl#nm:}" ;; esac)" "≥ 3×" "not measured"
            ;;
        *)
            local r
            r=$(num "$(kv "$l" deliveries_per_cpu_s) / $(kv "$nl" deliveries_per_cpu_s)")
            target "fan-out, per-user, deliveries per server CPU-s vs nchan, $n conns" \
                "${r}× ($(kv "$l" deliveries_per_cpu_s) vs $(kv "$nl" deliveries_per_cpu_s))" "≥ 3×" "$(verdict "$r >= 3")"
            ;;
        esac
    done
    l=${FAN[onebox.user.$FAN_MAX]:-nm:not run}
    case $l in
    nm:*) target "RSS per idle connection, $FAN_MAX conns" "not measured: ${l#nm:}" "≤ 4 KiB" "not measured" ;;
    *)
        local k
        k=$(num "$(kv "$l" rss_per_conn_b) / 1024" %.2f)
        target "RSS per idle connection, $FAN_MAX conns" "$k KiB (nchan $(num "$(kv "${FAN[nchan.user.$FAN_MAX]:-x=0}" rss_per_conn_b 2>/dev/null || echo 0) / 1024" %.1f) KiB)" "≤ 4 KiB" "$(verdict "$k <= 4")"
        ;;
    esac
    l=${FAN[onebox.user.$FAN_MID]:-nm:not run}
    case $l in
    nm:*) target "publish-to-receive p99, per-user, $FAN_MID conns" "not measured: ${l#nm:}" "< 2 ms" "not measured" ;;
    *)
        local p
        p=$(num "$(kv "$l" lat_p99_us) / 1000" %.2f)
        target "publish-to-receive p99, per-user, $FAN_MID conns (1,000 msg/s)" "$p ms (p50 $(num "$(kv "$l" lat_p50_us) / 1000" %.2f) ms)" "< 2 ms" "$(verdict "$p < 2")"
        ;;
    esac
}

# ---- REST ------------------------------------------------------------------

# wrk_run URL TOKEN -> "rps p99_ms non2xx"
wrk_run() {
    local out rps p99 bad
    $LOADER wrk -t1 -c8 -d1s -H "Authorization: Bearer $2" "$1" >/dev/null 2>&1 # warm-up
    out=$($LOADER wrk -t1 -c32 -d"${WRK_SECS}s" --latency -H "Authorization: Bearer $2" "$1" 2>&1)
    rps=$(printf '%s\n' "$out" | awk '/^Requests\/sec:/ { print $2 }')
    p99=$(printf '%s\n' "$out" | awk '$1 == "99%" {
        v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
        if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
        printf "%.2f", v }')
    bad=$(printf '%s\n' "$out" | awk '/Non-2xx or 3xx responses:/ { print $NF }')
    echo "${rps:-0} ${p99:--} ${bad:-0}"
}

rest() {
    local d=$T/rest tok uid code s_sync s_emails h_sync h_emails why=
    if ! command -v wrk >/dev/null; then why="wrk not installed"; fi
    for b in onebox-api onebox-syncd; do [ -x "$BIN/$b" ] || why="$BIN/$b not built"; done
    if [ -z "$why" ]; then
        mkdir -p "$d/run"
        uid=u_rest0001
        if ! "$BB/seed" accounts --db "$d/onebox.db" --seal-key "$d/seal.key" --count 1 \
                --user-fmt 'u_rest%04d' --login-fmt 'rest%04d' --imap-port 9 --password bench >>"$T/seed.log" 2>&1 ||
            ! "$BB/seed" emails --db "$d/onebox.db" --user "$uid" --count 200 >>"$T/seed.log" 2>&1; then
            why="seeding the database failed: $(log_tail "$T/seed.log")"
        fi
    fi
    if [ -z "$why" ]; then
        t_bg rest-syncd "${OB_ENV[@]}" ONEBOX_DATA_DIR="$d" "$BIN/onebox-syncd"
        t_wait_file "$d/run/sync.sock" 10
        t_bg rest-api "${OB_ENV[@]}" ONEBOX_DATA_DIR="$d" ONEBOX_API_LISTEN="$d/run/api.sock" "$BIN/onebox-api"
        if ! t_wait_file "$d/run/api.sock" 10; then
            why="onebox-api did not start: $(log_tail "$T/rest-api.log")"
        fi
    fi
    if [ -z "$why" ] && ! tok=$("$BB/seed" token --jwt-key "$d/jwt.key" --user "$uid" 2>>"$T/seed.log"); then
        why="minting a token failed"
    fi
    if [ -z "$why" ] && ! nginx_start "unix:$d/run/api.sock" >>"$T/nginx-start.log" 2>&1; then
        why="nginx did not start: $(log_tail "$T/nginx-start.log")"
    fi
    local u_sync u_emails
    if [ -z "$why" ]; then
        u_sync="http://127.0.0.1:$NGINX_PORT/api/sync/status/$uid"
        u_emails="http://127.0.0.1:$NGINX_PORT/api/emails"
        for u in "$u_sync" "$u_emails"; do
            code=$(curl -s -o "$T/rest.body" -w '%{http_code}' -H "Authorization: Bearer $tok" "$u")
            if [ "$code" != 200 ]; then
                why="${why:+$why; }GET ${u#http://127.0.0.1:$NGINX_PORT} answered $code $(head -c 160 "$T/rest.body" | tr '\n|' '  ')"
            fi
        done
    fi
    if [ -n "$why" ]; then
        say "REST: not measured: $why"
        echo "| not measured: $why | | | | | |" >>"$REST_MD"
        target "REST GET /api/sync/status/:userId vs FastCGI hello (req/s)" "not measured: $why" "≥ 0.8×" "not measured"
        nginx_stop 2>/dev/null
        t_stop rest-api
        t_stop rest-syncd
        return
    fi
    say "REST: onebox-api ($API_THREADS threads) through nginx"
    s_sync=$(wrk_run "$u_sync" "$tok")
    s_emails=$(wrk_run "$u_emails" "$tok")
    nginx_stop
    t_stop rest-api
    say "REST: fcgi_hello ($API_THREADS threads) through the same nginx"
    t_bg rest-hello "$BB/fcgi_hello" "$d/hello.sock" "$API_THREADS"
    t_wait_file "$d/hello.sock" 10
    if nginx_start "unix:$d/hello.sock" >>"$T/nginx-start.log" 2>&1; then
        h_sync=$(wrk_run "http://127.0.0.1:$NGINX_PORT/api/sync/status/$uid" "$tok")
        h_emails=$(wrk_run "http://127.0.0.1:$NGINX_PORT/api/emails" "$tok")
        nginx_stop
    else
        h_sync="0 - 0" h_emails="0 - 0"
    fi
    t_stop rest-hello
    t_stop rest-syncd
    local name s h r
    for name in sync emails; do
        if [ $name = sync ]; then s=($s_sync) h=($h_sync) path="/api/sync/status/:userId"
        else s=($s_emails) h=($h_emails) path="/api/emails (200 stored, first page)"; fi
        if ok "${h[0]} > 0 && ${s[0]} > 0"; then
            r=$(num "${s[0]} / ${h[0]}")
        else
            r=0
        fi
        echo "| GET $path | ${s[0]} | ${s[1]} | ${h[0]} | ${h[1]} | ${r}× |$( [ "${s[2]}" = 0 ] || echo " ${s[2]} non-2xx!")" >>"$REST_MD"
        # Only the status route has a target (#3); a page of emails is
        # ~30 KB against the hello's 40 bytes, so its row is for reference.
        [ $name = sync ] || continue
        target "REST GET ${path%% (*} vs FastCGI hello (req/s)" "${r}× (${s[0]} vs ${h[0]}; p99 ${s[1]} vs ${h[1]} ms)" "≥ 0.8×" "$(verdict "$r >= 0.8")"
    done
}

# ---- sync ------------------------------------------------------------------

# Puts COUNT Dovecot users PREFIX0001.. with password PW in at once (one
# passwd rewrite; dovecot_add_user of the last one waits for it to apply).
dovecot_bulk_users() {
    local prefix=$1 count=$2 pw=$3 i
    for i in $(seq 1 $((count - 1))); do
        printf '%s%04d:{PLAIN}%s\n' "$prefix" "$i" "$pw"
    done >>"$DOVECOT_DIR/passwd"
    dovecot_add_user "$(printf '%s%04d' "$prefix" "$count")" "$pw"
}

# The mailbox of the initial-sync comparison, made once for every run.
sync_initial_setup() {
    local md=$DOVECOT_DIR/mail/bench1/Maildir
    dovecot_add_user bench1 benchpw || return 1
    mkdir -p "$md/cur" "$md/new" "$md/tmp"
    "$BB/genmail" "$md" "$SYNC_MSGS" || return 1
    [ "$(id -u)" -ne 0 ] || chown -R "$DOVECOT_UID:$DOVECOT_GID" "$DOVECOT_DIR/mail/bench1"
    # Dovecot indexes the Maildir and reads every message once, so neither
    # client pays for a cold index or page cache.
    dovecot_doveadm mailbox status -u bench1 messages INBOX >"$T/dv-status.log" 2>&1
    dovecot_doveadm fetch -u bench1 text mailbox INBOX >/dev/null 2>&1
    say "sync: $(cat "$T/dv-status.log") in INBOX ($(du -sh "$md" | cut -f1))"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# sync_initial CPUS: mbsync, then onebox-syncd, pull the whole mailbox: a
# warm-up, then MBSYNC_RUNS timed runs each, with the client on CPUS
# (Dovecot stays on core 0).  R_OUT: key=value ..., or "nm:why".
sync_initial() {
    R_OUT=
    local cpus=$1 t0 t1 i runs=() oruns=() cpu=() mb cnt ob sd
    local client="taskset -c $cpus"

    # mbsync: each run into an empty Maildir.
    if ! command -v mbsync >/dev/null; then
        R_OUT="nm:mbsync not installed"
        return
    fi
    for i in $(seq 0 "$MBSYNC_RUNS"); do
        rm -rf "$T/mbsync"
        mkdir -p "$T/mbsync/local"
        cat >"$T/mbsync/rc" <<EOF
IMAPAccount bench
Host 127.0.0.1
Port $DOVECOT_IMAP_PORT
User bench1
Pass benchpw
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account bench

MaildirStore local
Path $T/mbsync/local/
Inbox $T/mbsync/local/INBOX

Channel bench
Far :remote:
Near :local:
Patterns INBOX
Create Near
Sync Pull
SyncState *
EOF
        t0=$(date +%s.%N)
        $client mbsync -q -c "$T/mbsync/rc" bench >>"$T/mbsync.log" 2>&1
        t1=$(date +%s.%N)
        cnt=$(find "$T/mbsync/local/INBOX" -type f -path '*/cur/*' -o -type f -path '*/new/*' 2>/dev/null | wc -l)
        if [ "$cnt" -ne "$SYNC_MSGS" ]; then
            R_OUT="nm:mbsync stored $cnt of $SYNC_MSGS messages: $(log_tail "$T/mbsync.log")"
            return
        fi
        [ "$i" -eq 0 ] || runs+=("$(num "$t1 - $t0" %.3f)")
    done
    mb=$(printf '%s\n' "${runs[@]}" | median)
    rm -rf "$T/mbsync"

    # onebox-syncd: the whole mailbox (initial window 0) into a fresh
    # database on the same tmpfs, each run with its own data dir.
    local pid c0 c1 rss
    for i in $(seq 0 "$MBSYNC_RUNS"); do
        sd=$T/s-initial
        rm -rf "$sd"
        mkdir -p "$sd"
        "$BB/seed" accounts --db "$sd/onebox.db" --seal-key "$sd/seal.key" --count 1 \
            --user-fmt 'u_sync%04d' --login-fmt 'bench%d' --imap-port "$DOVECOT_IMAP_PORT" \
            --password benchpw >>"$T/seed.log" 2>&1 || { R_OUT="nm:seeding failed"; return; }
        t_bg s-initial-syncd $client "${OB_ENV[@]}" ONEBOX_DATA_DIR="$sd" \
            ONEBOX_SYNC_INITIAL_WINDOW=0 "$BIN/onebox-syncd"
        if ! t_wait_file "$sd/run/sync.sock" 10; then
            R_OUT="nm:onebox-syncd did not start: $(log_tail "$T/s-initial-syncd.log")"
            t_stop s-initial-syncd
            return
        fi
        pid=$(t_pid s-initial-syncd)
        c0=$(cpu_ticks "$pid")
        ob=$($LOADER "$BB/synctime" initial --db "$sd/onebox.db" --sock "$sd/run/sync.sock" \
            --user u_sync0001 --expect "$SYNC_MSGS" --timeout 300 2>>"$T/synctime.err")
        c1=$(cpu_ticks "$pid")
        rss=$(rss_kb "$pid")
        t_stop s-initial-syncd
        if [ -z "$ob" ] || [ "$(kv "$ob" msgs)" -lt "$SYNC_MSGS" ]; then
            R_OUT="nm:onebox-syncd stored $(kv "$ob" msgs 2>/dev/null || echo 0) of $SYNC_MSGS in 300 s: $(log_tail "$T/synctime.err") $(log_tail "$T/s-initial-syncd.log")"
            return
        fi
        [ "$i" -eq 0 ] && continue
        oruns+=("$(kv "$ob" secs)")
        cpu+=("$(num "($c1 - $c0) / $(getconf CLK_TCK)")")
    done
    R_OUT="mbsync=$mb mbsync_runs=$(IFS=,; echo "${runs[*]}") onebox=$(printf '%s\n' "${oruns[@]}" | median) onebox_runs=$(IFS=,; echo "${oruns[*]}") syncd_cpu_s=$(printf '%s\n' "${cpu[@]}" | median) syncd_rss_kb=$rss"
}

sync_idle() {
    R_OUT=
    local sd=$T/s-idle port tok out
    # Dovecot notices a change either 0.5 s after inotify fires or at its
    # next periodic check (tests/lib/dovecot.sh sets 1 s for many-session
    # tests), whichever comes first, so two sessions would be told at
    # different moments.  With the periodic check far away, every session is
    # told by the same fixed 0.5 s path and the plain client's arrival is a
    # fair clock for syncd's.  New sessions pick up the reload.
    sed -i 's/^mailbox_idle_check_interval = .*/mailbox_idle_check_interval = 30 secs/' "$DOVECOT_CONF"
    dovecot_doveadm reload >>"$T/dovecot-start.log" 2>&1
    sleep 1
    dovecot_add_user idle1 benchpw || { R_OUT="nm:adding the Dovecot user failed"; return; }
    mkdir -p "$sd"
    "$BB/seed" accounts --db "$sd/onebox.db" --seal-key "$sd/seal.key" --count 1 \
        --user-fmt 'u_idle%04d' --login-fmt 'idle%d' --imap-port "$DOVECOT_IMAP_PORT" \
        --password benchpw --wanted >>"$T/seed.log" 2>&1 || { R_OUT="nm:seeding failed"; return; }
    port=$(t_free_port)
    # onebox on the client core; Dovecot stays on core 0.
    t_bg s-idle-syncd $LOADER "${OB_ENV[@]}" ONEBOX_DATA_DIR="$sd" "$BIN/onebox-syncd"
    t_bg s-idle-rt $LOADER "${OB_ENV[@]}" ONEBOX_DATA_DIR="$sd" ONEBOX_WS_PORT="$port" \
        "$BIN/onebox-realtime"
    if ! t_wait_file "$sd/run/sync.sock" 10 || ! t_wait_port 127.0.0.1 "$port" 10; then
        R_OUT="nm:onebox did not start: $(log_tail "$T/s-idle-syncd.log") $(log_tail "$T/s-idle-rt.log")"
        t_stop s-idle-rt
        t_stop s-idle-syncd
        return
    fi
    if ! "$BB/synctime" wait-idle --sock "$sd/run/sync.sock" --count 1 --timeout 60 \
            --pid "$(t_pid s-idle-syncd)" >>"$T/synctime.err" 2>&1; then
        R_OUT="nm:the account never reached idle: $(log_tail "$T/synctime.err") $(log_tail "$T/s-idle-syncd.log")"
        t_stop s-idle-rt
        t_stop s-idle-syncd
        return
    fi
    tok=$("$BB/seed" token --jwt-key "$sd/jwt.key" --user u_idle0001)
    out=$($LOADER "$BB/imapidle" --port "$DOVECOT_IMAP_PORT" --user idle1 --pass benchpw \
        --samples "$IDLE_SAMPLES" --ws "ws://127.0.0.1:$port/ws?token=$tok" 2>>"$T/imapidle.err")
    t_stop s-idle-rt
    t_stop s-idle-syncd
    if [ -z "$out" ]; then
        R_OUT="nm:imapidle failed: $(log_tail "$T/imapidle.err")"
        return
    fi
    R_OUT=$out
}

# sync_accounts N: RSS of onebox-syncd holding N idle IMAP accounts.
sync_accounts() {
    R_OUT=
    local n=$1 sd=$T/s-acct-$n pid rss w
    [ -d "$DOVECOT_DIR/mail" ] || return
    if ! grep -q "^acct$(printf '%04d' "$n"):" "$DOVECOT_DIR/passwd"; then
        dovecot_bulk_users acct "$n" benchpw || { R_OUT="nm:adding $n Dovecot users failed"; return; }
    fi
    mkdir -p "$sd"
    "$BB/seed" accounts --db "$sd/onebox.db" --seal-key "$sd/seal.key" --count "$n" \
        --user-fmt 'u_acct%04d' --login-fmt 'acct%04d' --imap-port "$DOVECOT_IMAP_PORT" \
        --password benchpw --wanted >>"$T/seed.log" 2>&1 || { R_OUT="nm:seeding failed"; return; }
    t_bg "s-acct-$n" $LOADER "${OB_ENV[@]}" ONEBOX_DATA_DIR="$sd" "$BIN/onebox-syncd"
    if ! t_wait_file "$sd/run/sync.sock" 10; then
        R_OUT="nm:onebox-syncd did not start: $(log_tail "$T/s-acct-$n.log")"
        t_stop "s-acct-$n"
        return
    fi
    w=$("$BB/synctime" wait-idle --sock "$sd/run/sync.sock" --count "$n" --timeout 240 \
        --pid "$(t_pid "s-acct-$n")" 2>>"$T/synctime.err")
    local gone=
    t_alive "s-acct-$n" || gone=", onebox-syncd exited"
    [ -n "$gone" ] || sleep 2
    pid=$(t_pid "s-acct-$n")
    rss=$(rss_kb "$pid")
    t_stop "s-acct-$n" 20
    if [ "$(kv "$w" idle 2>/dev/null || echo 0)" -lt "$n" ]; then
        R_OUT="nm:only $(kv "$w" idle 2>/dev/null || echo 0) of $n accounts reached idle$gone ($(kv "$w" error 2>/dev/null || echo '?') in error): $(log_tail "$T/s-acct-$n.log")"
        return
    fi
    R_OUT="rss_kb=$rss secs=$(kv "$w" secs)"
}

sync_baseline_rss() {
    R_OUT=
    local sd=$T/s-acct-0 rss
    mkdir -p "$sd"
    t_bg s-acct-0 $LOADER "${OB_ENV[@]}" ONEBOX_DATA_DIR="$sd" "$BIN/onebox-syncd"
    t_wait_file "$sd/run/sync.sock" 10 || { t_stop s-acct-0; return; }
    sleep 2
    rss=$(rss_kb "$(t_pid s-acct-0)")
    t_stop s-acct-0
    R_OUT=$rss
}

sync_all() {
    local why= r l
    [ -x "$BIN/onebox-syncd" ] || why="$BIN/onebox-syncd not built"
    if [ -z "$why" ] && ! dovecot_start >>"$T/dovecot-start.log" 2>&1; then
        why="Dovecot did not start: $(log_tail "$T/dovecot-start.log")"
    fi
    if [ -n "$why" ]; then
        say "sync: not measured: $why"
        target "initial sync of $SYNC_MSGS messages, wall time vs mbsync" "not measured: $why" "≤ 1.5×" "not measured"
        target "IDLE notification -> WebSocket new_email, p99 over Dovecot's floor" "not measured: $why" "≤ 5 ms" "not measured"
        target "RSS per idle IMAP account" "not measured: $why" "≤ 64 KiB" "not measured"
        echo "not measured: $why" >>"$SYNC_MD"
        return
    fi

    if in_sync initial; then sync_all_initial; fi
    if in_sync idle; then sync_all_idle; fi
    if in_sync accounts; then sync_all_accounts; fi
    dovecot_stop
}

sync_all_initial() {
    local r cpus where
    say "sync: initial sync of $SYNC_MSGS messages, mbsync vs onebox-syncd"
    echo "### Initial sync of $SYNC_MSGS messages (2–5 KB, Maildir on tmpfs, plain IMAP on 127.0.0.1)" >>"$SYNC_MD"
    echo >>"$SYNC_MD"
    if ! sync_initial_setup; then
        echo "not measured: the mailbox could not be made" >>"$SYNC_MD"
        target "initial sync of $SYNC_MSGS messages, wall time vs mbsync" "not measured: the mailbox could not be made" "≤ 1.5×" "not measured"
        return
    fi
    # Twice: each client on core 1 alone, then each free to use both cores
    # of the machine.  Dovecot stays on core 0.  mbsync is single-threaded;
    # onebox-syncd stores one batch while a helper thread fetches and
    # decodes the next.
    echo "| clients on | client | wall time (s) | msgs/s | notes |" >>"$SYNC_MD"
    echo "|---|---|---:|---:|---|" >>"$SYNC_MD"
    for cpus in 1 0,1; do
        case $cpus in 1) where="core 1" ;; *) where="cores 0–1" ;; esac
        sync_initial "$cpus"
        r=$R_OUT
        case $r in
        nm:* | "")
            r=${r#nm:}
            echo "| $where | not measured: ${r:-no result} | | | |" >>"$SYNC_MD"
            target "initial sync of $SYNC_MSGS messages, wall time vs mbsync, clients on $where" "not measured: ${r:-no result}" "≤ 1.5×" "not measured"
            ;;
        *)
            local mb obs ratio
            mb=$(kv "$r" mbsync) obs=$(kv "$r" onebox)
            ratio=$(num "$obs / $mb")
            {
                echo "| $where | mbsync (isync) into Maildir | $mb | $(num "$SYNC_MSGS / $mb" %.0f) | median of runs $(kv "$r" mbsync_runs) after a warm-up |"
                echo "| $where | onebox-syncd into SQLite (+FTS5, categorized) | $obs | $(num "$SYNC_MSGS / $obs" %.0f) | median of runs $(kv "$r" onebox_runs) after a warm-up; CPU $(kv "$r" syncd_cpu_s) s, RSS after $(num "$(kv "$r" syncd_rss_kb) / 1024" %.1f) MiB |"
            } >>"$SYNC_MD"
            target "initial sync of $SYNC_MSGS messages, wall time vs mbsync, clients on $where" "${ratio}× ($obs s vs $mb s)" "≤ 1.5×" "$(verdict "$ratio <= 1.5")"
            ;;
        esac
    done
}

sync_all_idle() {
    local r
    say "sync: IDLE -> WebSocket latency, $IDLE_SAMPLES samples"
    sync_idle
    r=$R_OUT
    {
        echo
        echo "### IDLE notification to WebSocket (APPEND, $IDLE_SAMPLES samples)"
        echo
    } >>"$SYNC_MD"
    case $r in
    nm:* | "")
        r=${r#nm:}
        echo "not measured: ${r:-no result}" >>"$SYNC_MD"
        target "IDLE notification -> WebSocket new_email, p99 over Dovecot's floor" "not measured: ${r:-no result}" "≤ 5 ms" "not measured"
        ;;
    *)
        {
            echo "| | p50 (ms) | p99 (ms) |"
            echo "|---|---:|---:|"
            echo "| APPEND -> plain IMAP client's EXISTS (Dovecot's floor) | $(kv "$r" floor_p50_ms) | $(kv "$r" floor_p99_ms) |"
            echo "| APPEND -> new_email on the WebSocket | $(kv "$r" ws_p50_ms) | $(kv "$r" ws_p99_ms) |"
            echo "| overhead: WebSocket minus plain IDLE, per sample | $(kv "$r" over_p50_ms) | $(kv "$r" over_p99_ms) (max $(kv "$r" over_max_ms)) |"
            echo
            echo "missed samples: $(kv "$r" missed)"
        } >>"$SYNC_MD"
        target "IDLE notification -> WebSocket new_email, p99 over Dovecot's floor" \
            "$(kv "$r" over_p99_ms) ms (p50 $(kv "$r" over_p50_ms); floor p50 $(kv "$r" floor_p50_ms) ms)" "≤ 5 ms" \
            "$(verdict "$(kv "$r" over_p99_ms) <= 5 && $(kv "$r" missed) == 0")"
        ;;
    esac

}

sync_all_accounts() {
    local r
    # 1,000 sessions: back to the 1 s check (past ~128 sessions inotify runs
    # out and Dovecot polls), and room on Dovecot's stats service, whose
    # 1,000-client default otherwise stalls each new imap process on a
    # handshake timeout (that would time Dovecot, not onebox-syncd).
    sed -i 's/^mailbox_idle_check_interval = .*/mailbox_idle_check_interval = 1 secs/' "$DOVECOT_CONF"
    printf 'service stats {\n  client_limit = 4096\n}\n' >>"$DOVECOT_CONF"
    dovecot_doveadm reload >>"$T/dovecot-start.log" 2>&1
    sleep 1
    say "sync: RSS per idle account"
    local base n
    sync_baseline_rss
    base=$R_OUT
    {
        echo
        echo "### RSS of onebox-syncd per idle IMAP account"
        echo
        echo "Baseline (no accounts): ${base:-?} KiB."
        echo
        echo "| accounts | RSS (KiB) | (RSS - baseline) / account | time to all idle (s) |"
        echo "|---:|---:|---:|---:|"
    } >>"$SYNC_MD"
    for n in $ACCT_NS; do
        say "sync: $n accounts"
        sync_accounts "$n"
        r=$R_OUT
        case $r in
        nm:* | "")
            r=${r#nm:}
            echo "| $n | not measured: ${r:-no result} | | |" >>"$SYNC_MD"
            target "RSS per idle IMAP account, $n accounts" "not measured: ${r:-no result}" "≤ 64 KiB" "not measured"
            ;;
        *)
            local per
            per=$(num "($(kv "$r" rss_kb) - ${base:-0}) / $n" %.1f)
            echo "| $n | $(kv "$r" rss_kb) | $per KiB | $(kv "$r" secs) |" >>"$SYNC_MD"
            target "RSS per idle IMAP account, $n accounts" "$per KiB" "≤ 64 KiB" "$(verdict "$per <= 64")"
            ;;
        esac
    done
}

# ---- run -------------------------------------------------------------------

if in_only fanout; then
    fanout
    fan_tables
else
    echo "(not run: BENCH_ONLY=$ONLY)" >"$FAN_MD"
fi
if in_only rest; then rest; else echo "| not run (BENCH_ONLY=$ONLY) | | | | | |" >"$REST_MD"; fi
if in_only sync; then sync_all; else echo "(not run: BENCH_ONLY=$ONLY)" >"$SYNC_MD"; fi

# ---- the report ------------------------------------------------------------

DAY=$(date +%F)
mkdir -p bench/results
RES=bench/results/$DAY.md
[ "$QUICK" = 1 ] && RES=bench/results/$DAY-quick.md
mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
{
    echo "# onebox bench — $(date -u +'%Y-%m-%d %H:%M UTC')$( [ "$QUICK" = 1 ] && echo ' (BENCH_QUICK=1 smoke run: small counts, not the targets’ conditions)')"
    echo
    echo "Machine: $(getconf _NPROCESSORS_ONLN) cores, $mem RAM, Linux $(uname -r), CPU: $cpu. Commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')."
    echo "Servers pinned to core 0, loaders and clients to core 1; temp dirs on ${TMPDIR:-/tmp}. Took $(($(date +%s) - START_S)) s."
    echo "Load average before: $LOAD_START; after: $(cut -d' ' -f1-3 /proc/loadavg) (anything else running on the machine skews every figure)."
    echo
    echo "## Targets"
    echo
    echo "| target (issue) | measured | target | result |"
    echo "|---|---|---|---|"
    cat "$TARGETS"
    echo
    echo "## Fan-out (bench/wsload; onebox: ephemeral sync_progress per user, room message for broadcast)"
    echo
    cat "$FAN_MD"
    echo
    echo "## REST (wrk -t1 -c32 -d${WRK_SECS}s through nginx, $API_THREADS FastCGI threads each)"
    echo
    echo "| route | onebox-api req/s | p99 (ms) | fcgi_hello req/s | p99 (ms) | ratio |"
    echo "|---|---:|---:|---:|---:|---:|"
    cat "$REST_MD"
    echo
    echo "## Sync (Dovecot 2.3 on core 0; clients on core 1 unless the table says otherwise)"
    echo
    cat "$SYNC_MD"
} >"$RES"
cat "$RES"
say "written to $RES"
_T_DONE=1      # common.sh's exit trap then only cleans up (no test summary)
exit 0
