#!/usr/bin/env bash
# Sourced by run.sh and profile.sh: the processes a benchmark starts, pinned to CPUs, and stopped by the PIDs that
# started them (also when the script fails or is interrupted). The sourcing script sets $out (where logs go).

started_pids=()

stop_pid() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

stop_all() {
    local pid
    for pid in "${started_pids[@]}"; do
        stop_pid "$pid"
    done
    started_pids=()
}
trap stop_all EXIT INT TERM

# Starts a command pinned to CPUS in the background, output to LOG; sets $last_pid.
start_pinned() {
    local cpus=$1 log=$2
    shift 2
    taskset -c "$cpus" "$@" >"$log" 2>&1 &
    last_pid=$!
    started_pids+=("$last_pid")
}

# As start_pinned, for a gateway: its output goes through a pipe, as a container runtime reads it, to a reader on
# READER_CPUS that keeps the last 8 MiB in LOG. The gateway logs as it ships (one JSON line per request at
# Information), and a run makes millions of requests.
start_gateway_pinned() {
    local cpus=$1 log=$2 reader_cpus=$3
    shift 3
    rm -f "$log.pipe"
    mkfifo "$log.pipe"
    taskset -c "$reader_cpus" tail -c 8388608 "$log.pipe" >"$log" &
    start_pinned "$cpus" "$log.pipe" "$@"
}

stop_started() {
    local pid=$1 kept=() other
    stop_pid "$pid"
    for other in "${started_pids[@]}"; do
        [[ $other == "$pid" ]] || kept+=("$other")
    done
    started_pids=("${kept[@]}")
}

free_port() {
    node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

wait_for_http() {
    local url=$1 pid=$2 name=$3
    for _ in $(seq 300); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "$name exited during start-up; its log is in $out" >&2
            exit 1
        fi
        curl -s -o /dev/null -m 1 "$url" && return 0
        sleep 0.1
    done
    echo "$name did not answer $url within 30 s; its log is in $out" >&2
    exit 1
}

# A figure summed over a process and its children (nginx's workers): the awk PROGRAM reads it from /proc/<pid>/FILE.
sum_over_process_tree() {
    local pid=$1 file=$2 program=$3 total=0 child value
    for child in "$pid" $(pgrep -P "$pid" || true); do
        value=$(awk "$program" "/proc/$child/$file" 2>/dev/null || echo 0)
        total=$((total + ${value:-0}))
    done
    echo "$total"
}

# CPU time used (user + system), in clock ticks.
cpu_ticks() { sum_over_process_tree "$1" stat '{print $14 + $15}'; }

# Resident memory now, and its high-water mark, in KiB.
rss_kib() { sum_over_process_tree "$1" status '/^VmRSS:/ {print $2}'; }
peak_rss_kib() { sum_over_process_tree "$1" status '/^VmHWM:/ {print $2}'; }

# One process's resident set in parts, in KiB, tab-separated: anonymous, file-backed, shared memory.
resident_parts_kib() {
    [[ -r /proc/$1/status ]] || { printf -- '-\t-\t-'; return 0; }
    awk '/^RssAnon:/ {a = $2} /^RssFile:/ {f = $2} /^RssShmem:/ {s = $2} END {printf "%s\t%s\t%s", a, f, s}' "/proc/$1/status"
}

# From a gateway's Prometheus scrape at URL, tab-separated: the GC's committed memory after its last collection, in
# KiB, and how many methods the JIT has compiled ("-" for a figure the scrape did not give).
runtime_memory_figures() {
    curl -s -m 2 "$1" | awk '
        /^dotnet_gc_last_collection_memory_committed_size_bytes / {gc = int($2 / 1024)}
        /^dotnet_jit_compiled_methods_total / {jit = $2}
        END {printf "%s\t%s", (gc == "" ? "-" : gc), (jit == "" ? "-" : jit)}'
}

# How every .NET process of a benchmark starts, as deploy/Dockerfile starts the gateway (docs/benchmarks.md):
# - DOTNET_TC_DelaySingleProcMultiplier=1: on one CPU the runtime waits 10x longer before optimising hot methods,
#   and the wait restarts with every new method, so under load the gateway would stay in tier-0 code for minutes.
# - DOTNET_GCgen0size=1000000: a 16 MiB gen0 budget (hexadecimal). The default follows the CPU's cache size and let
#   the heap reach about 100 MiB under load; 16 MiB cut the full pipeline's peak resident set from 202 to 165 MiB for
#   2% more CPU per request (profile.sh, 20261121T193918Z). Written without 0x: the JIT runtime reads the value as
#   hexadecimal either way, and a NativeAOT build (native-build.sh) ignores it with the prefix.
# - DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1: socket completions run on the runtime's event threads, and the
#   gateway and the floors run request code there too (GatewayTransportExtensions, floor/Program.cs): 0.5 thread
#   switches per request instead of 3 (profile.sh, 20261122T174919Z).
dotnet_env=(DOTNET_TC_DelaySingleProcMultiplier=1 DOTNET_GCgen0size=1000000 DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1)

# An OTLP/HTTP endpoint that accepts and drops every export (lib/otlp-sink.mjs), for scenarios with OTLP=1;
# sets $otlp_port.
start_otlp_sink() {
    local cpus=$1
    otlp_port=$(free_port)
    start_pinned "$cpus" "$out/otlp-sink.log" node "$(dirname "${BASH_SOURCE[0]}")/otlp-sink.mjs" "$otlp_port"
    wait_for_http "http://127.0.0.1:$otlp_port/" "$last_pid" "the OTLP sink"
}

# The gateway's arguments for a scenario's OTLP= and REDIS= settings, in $scenario_args; starts the OTLP sink and
# Redis on CPUS the first time a scenario needs them. (Not for use in $(...): the processes must be this shell's.)
scenario_arguments() {
    local cpus=$1 otlp=$2 redis=$3
    scenario_args=()
    if [[ $otlp == 1 ]]; then
        [[ -n ${otlp_port:-} ]] || start_otlp_sink "$cpus"
        scenario_args+=("--Gateway:Telemetry:OtlpEndpoint=http://127.0.0.1:$otlp_port" "--Gateway:Telemetry:OtlpProtocol=HttpProtobuf")
    fi
    if [[ $redis == 1 ]]; then
        [[ -n ${redis_port:-} ]] || start_redis "$cpus"
        scenario_args+=("--ConnectionStrings:Redis=127.0.0.1:$redis_port")
    fi
}

# Redis 8 (installed by tests/infra/install-redis8.sh, as the test command does) for scenarios with REDIS=1, without
# persistence; sets $redis_port.
start_redis() {
    local cpus=$1 root_dir server
    root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
    server=$("$root_dir/tests/infra/install-redis8.sh" | tail -n 1)
    redis_port=$(free_port)
    start_pinned "$cpus" "$out/redis.log" "$server" --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no
    for _ in $(seq 100); do
        [[ $("$root_dir/.tools/redis8/bin/redis-cli" -p "$redis_port" ping 2>/dev/null) == PONG ]] && return 0
        sleep 0.1
    done
    echo "Redis did not answer on port $redis_port; its log is in $out" >&2
    exit 1
}
