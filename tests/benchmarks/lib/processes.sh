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

# CPU time a process and its children (nginx's workers) have used, in clock ticks (user + system).
cpu_ticks() {
    local pid=$1 total=0 child ticks
    for child in "$pid" $(pgrep -P "$pid" || true); do
        ticks=$(awk '{print $14 + $15}' "/proc/$child/stat" 2>/dev/null || echo 0)
        total=$((total + ${ticks:-0}))
    done
    echo "$total"
}
