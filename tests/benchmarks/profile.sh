#!/usr/bin/env bash
# Where the gateway's CPU goes: A/B comparison of gateway configurations by CPU time per request, a measure that a
# busy machine disturbs far less than latency or throughput. See docs/benchmarks.md.
#
# Usage: tests/benchmarks/profile.sh [--seconds S] [--rounds N] [--connections C] [--pace MS] [--perf] [--trace] VARIANT...
#   VARIANT      NAME=SCENARIO[,SETTING...]: a folder in scenarios/ (KIND=load, UPSTREAM=static) plus settings:
#                --Key=Value is passed to the gateway as a configuration override, NAME=VALUE is set in its
#                environment, @PATH runs another build's LlmGateway.dll (an older commit's, built in a worktree),
#                or a native executable (a NativeAOT build from tests/benchmarks/native-build.sh)
#                ('\,' for a comma inside a setting), for example
#                full=full-pipeline  nopgo=full-pipeline,DOTNET_TieredPGO=0
#                before=full-pipeline,@/tmp/old/src/LlmGateway/bin/Release/net10.0/LlmGateway.dll
#   --seconds    length of each measured wrk run (default 5)
#   --warmup     seconds of load per variant before the first round (default 30: until the JIT has tiered up)
#   --rounds     rounds per variant, interleaved across variants; the report takes medians (default 3)
#   --connections  wrk connections (default 16: past the gateway's throughput plateau on one core)
#   --pace MS    each wrk connection waits MS milliseconds between requests in the measured rounds (the warm-up runs
#                at full load): a fixed offered load, the same for every variant, below saturation. CPU per request
#                then includes the thread pool's spinning while it waits for work (see docs/benchmarks.md)
#   --perf       also sample each variant's CPU stacks with `perf record` (JIT symbols via perf maps) for one
#                extra run and write the top functions to the output folder
#   --trace      also record each gateway's runtime events over its whole life (EventPipe: GC, loader and JIT events at
#                verbose level, so allocation ticks with stacks) and write trace-NAME.md: the collections' pauses and
#                where they go, and the allocation sites by share of the bytes (tests/LlmGateway.Benchmarks' trace-report).
#                Tracing costs CPU of its own: compare CPU per request only between variants that all have it
# Every gateway starts once and stays up; each gets a warm-up run first. The gateway runs on CPU 0, wrk and the
# fixed-response nginx upstream on CPU 1 (BENCH_PROXY_CPUS, BENCH_LOAD_CPUS move them), all on 127.0.0.1.
# The gateway starts as deploy/Dockerfile starts it (dotnet_env in lib/processes.sh: see docs/benchmarks.md); a
# scenario with OTLP=1 exports its traces and metrics to an OTLP sink that drops them (lib/otlp-sink.mjs), and one
# with REDIS=1 keeps its shared state in a Redis 8 started on the load CPUs.
# CPU time is the gateway process's user + system time from /proc. For a variant with REDIS=1 the report adds the
# Redis server's own CPU time per request and the scripts it ran per request (INFO before and after each round).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bench="$root/tests/benchmarks"
seconds=5
warmup=30
rounds=3
connections=16
record_perf=0
record_trace=0
pace_ms=""
proxy_cpus=${BENCH_PROXY_CPUS:-0}
load_cpus=${BENCH_LOAD_CPUS:-1}
upstream_api_key="sk-bench-upstream"
clock_ticks=$(getconf CLK_TCK)
variants=()

while [[ $# -gt 0 ]]; do
    case "$1" in
        --seconds) seconds=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --connections) connections=$2; shift 2 ;;
        --perf) record_perf=1; shift ;;
        --trace) record_trace=1; shift ;;
        --pace) pace_ms=$2; shift 2 ;;
        -*) echo "unknown argument: $1 (see the usage at the top of $0)" >&2; exit 2 ;;
        *) variants+=("$1"); shift ;;
    esac
done
[[ ${#variants[@]} -gt 0 ]] || { echo "name at least one variant (see the usage at the top of $0)" >&2; exit 2; }

out="$root/artifacts/profile/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
results="$out/results.tsv"
: >"$results"

step() { printf '\n== %s\n' "$*" >&2; }

# shellcheck source=tests/benchmarks/lib/processes.sh
source "$bench/lib/processes.sh"

step "Building the gateway (Release)"
dotnet build "$root/src/LlmGateway/LlmGateway.csproj" -c Release -nologo -v quiet
gateway_dll="$root/src/LlmGateway/bin/Release/net10.0/LlmGateway.dll"
if [[ $record_trace -eq 1 ]]; then
    dotnet build "$root/tests/LlmGateway.Benchmarks/LlmGateway.Benchmarks.csproj" -c Release -nologo -v quiet
fi

step "Starting the fixed-response upstream and one gateway per variant"
upstream_dir="$out/upstream"
mkdir -p "$upstream_dir/temp"
upstream_port=$(free_port)
body=$(tr -d '\n' <"$bench/upstream/chat-completion.json")
cat >"$upstream_dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $upstream_dir/nginx.pid;
error_log $upstream_dir/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    client_body_temp_path $upstream_dir/temp/body;
    proxy_temp_path $upstream_dir/temp/proxy;
    fastcgi_temp_path $upstream_dir/temp/fastcgi;
    uwsgi_temp_path $upstream_dir/temp/uwsgi;
    scgi_temp_path $upstream_dir/temp/scgi;
    server { listen 127.0.0.1:$upstream_port; default_type application/json; location / { return 200 '$body'; } }
}
EOF
start_pinned "$load_cpus" "$upstream_dir/stdout.log" nginx -p "$upstream_dir" -c "$upstream_dir/nginx.conf"
wait_for_http "http://127.0.0.1:$upstream_port/" "$last_pid" "the static upstream"

declare -A port_of pid_of request_of headers_of redis_of
names=()
for variant in "${variants[@]}"; do
    name=${variant%%=*}
    spec=${variant#*=}
    protected=${spec//\\,/$'\x1e'}
    IFS=, read -r -a parts <<<"$protected"
    parts=("${parts[@]//$'\x1e'/,}")
    scenario_dir="$bench/scenarios/${parts[0]}"
    [[ -f $scenario_dir/scenario.env ]] || { echo "no scenario folder $scenario_dir" >&2; exit 2; }
    REQUEST="" HEADERS="" SEED_REQUEST="" OTLP=0 REDIS=0
    # shellcheck source=/dev/null
    source "$scenario_dir/scenario.env"
    if [[ -n $SEED_REQUEST ]] || grep -q BENCH_MOCK_URL "$scenario_dir/appsettings.json"; then
        echo "${parts[0]}: scenarios that need a seed request or the mock provider run only in run.sh" >&2
        exit 2
    fi
    scenario_arguments "$load_cpus" "$OTLP" "$REDIS"
    arguments=("${scenario_args[@]}") environment=()
    dll=$gateway_dll
    for setting in "${parts[@]:1}"; do
        case $setting in
            --*) arguments+=("$setting") ;;
            @*) dll=${setting#@} ;;
            *) environment+=("$setting") ;;
        esac
    done
    [[ -f $dll ]] || { echo "$name: no gateway build at $dll" >&2; exit 2; }
    if [[ $record_trace -eq 1 ]]; then
        environment+=(DOTNET_EnableEventPipe=1 DOTNET_EventPipeOutputPath="$out/trace-$name.nettrace"
            DOTNET_EventPipeConfig=Microsoft-Windows-DotNETRuntime:0x19:5)
    fi
    # A .dll runs on the shared runtime; any other file is a native executable (a NativeAOT build) run as it is.
    if [[ $dll == *.dll ]]; then launcher=(dotnet "$dll"); else launcher=("$dll"); fi
    port=$(free_port)
    start_gateway_pinned "$proxy_cpus" "$out/gateway-$name.log" "$load_cpus" env \
        BENCH_UPSTREAM_URL="http://127.0.0.1:$upstream_port/v1" BENCH_UPSTREAM_API_KEY="$upstream_api_key" \
        "${dotnet_env[@]}" DOTNET_PerfMapEnabled="$record_perf" DOTNET_EnableWriteXorExecute="$((1 - record_perf))" \
        "${environment[@]}" \
        "${launcher[@]}" --urls "http://127.0.0.1:$port" --contentRoot "$scenario_dir" "${arguments[@]}"
    pid_of[$name]=$last_pid
    port_of[$name]=$port
    request_of[$name]=$REQUEST
    headers_of[$name]=$HEADERS
    redis_of[$name]=$REDIS
    names+=("$name")
    wait_for_http "http://127.0.0.1:$port/healthz" "$last_pid" "the gateway ($name)"
    printf 'variant\t%s\t%s\n' "$name" "$spec" >>"$results"
done

wrk_run() {
    local name=$1 secs=$2 log=$3
    BENCH_BODY_FILE="$bench/requests/${request_of[$name]}" BENCH_HEADERS="${headers_of[$name]}" BENCH_PACE_MS="$current_pace" \
        taskset -c "$load_cpus" wrk -t1 -c"$connections" -d"${secs}s" --latency -s "$bench/lib/post.lua" \
        "http://127.0.0.1:${port_of[$name]}/v1/chat/completions" >"$log" 2>&1 || { echo "wrk failed; see $log" >&2; exit 1; }
    grep '^RESULT ' "$log"
}

field() { sed -E "s/.* $1=([0-9]+).*/\1/" <<<"$2"; }

# From the runtime's own meter on /metrics: the bytes the gateway's GC heap has allocated since it started, its
# collections (the meter counts each generation's apart), and the time the GC has paused the process, in µs.
# Allocation per request is the one figure here that a busy machine does not move: it counts work, not time. The
# pauses are wall-clock time, so a busy machine lengthens them, but each one is paid by every request in flight.
gc_counters() {
    curl -s "http://127.0.0.1:$1/metrics" | awk '
        $1 == "dotnet_gc_heap_total_allocated_bytes_total" { allocated = $2 }
        $1 ~ /^dotnet_gc_collections_total/ { collections += $2 }
        $1 == "dotnet_gc_pause_time_seconds_total" { pause = $2 }
        END { printf "%.0f %.0f %.0f", allocated, collections, pause * 1e6 }'
}

# Context switches of all the gateway's threads so far (voluntary and not), from /proc: each one is a thread that went
# to sleep or was put aside, and a wake-up somewhere else. A thread that exits during a round takes its count with it
# (the thread pool retires idle threads, mostly at one connection), so a round can read low, even below zero: compare
# the medians.
context_switches() {
    cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ { s += $2 } END { print s + 0 }'
}

# Write-family system calls (write, writev, pwrite) the gateway process has made so far, from /proc: its log lines,
# mostly, since sockets send with send/sendmsg, which this counter leaves out.
write_calls() {
    awk '/^syscw:/ { print $2 }' /proc/"$1"/io 2>/dev/null || echo 0
}

# For a variant whose state is in Redis: the Redis server's CPU time so far (µs, main thread and others) and the
# scripts it has run (EVAL and EVALSHA, which the gateway sends; the commands inside them are counted apart). Redis's
# time per request is what bounds all replicas together, since one Redis serves them all.
redis_counters() {
    "$root/.tools/redis8/bin/redis-cli" -p "$redis_port" info everything | awk -F'[:=,]' '
        $1 == "used_cpu_sys" || $1 == "used_cpu_user" { cpu += $2 }
        $1 == "cmdstat_evalsha" || $1 == "cmdstat_eval" { scripts += $3 }
        END { printf "%.0f %d", cpu * 1e6, scripts }'
}

current_pace=""  # warm-up at full load, so the JIT sees the hot paths
step "Warm-up: $warmup s per variant"
for name in "${names[@]}"; do
    wrk_run "$name" "$warmup" "$out/wrk-$name-warmup.txt" >/dev/null
done

# One variant's figures for a round, from its CPU ticks and allocated bytes before and after, and wrk's result line.
record_round() {
    local name=$1 round=$2 line=$3 ticks=$4 allocated=$5 switches=$6 redis_cpu=$7 redis_scripts=$8 collections=$9 pause=${10} writes=${11}
    local requests errors cpu_us rps alloc per_request_switches per_request_writes gc_figures redis_figures="-\t-" redis_words=""
    [[ -n $line ]] || { echo "wrk failed for $name; see $out/wrk-$name-r$round.txt" >&2; exit 1; }
    requests=$(field requests "$line")
    errors=$(($(field non2xx "$line") + $(field socket_errors "$line")))
    cpu_us=$(awk -v t="$ticks" -v hz="$clock_ticks" -v r="$requests" 'BEGIN { printf "%.1f", t * 1e6 / hz / r }')
    rps=$(awk -v r="$requests" -v d="$(field duration_us "$line")" 'BEGIN { printf "%.0f", r * 1e6 / d }')
    alloc=$(awk -v a="$allocated" -v r="$requests" 'BEGIN { printf "%.0f", a / r }')
    per_request_switches=$(awk -v s="$switches" -v r="$requests" 'BEGIN { printf "%.2f", s / r }')
    per_request_writes=$(awk -v w="$writes" -v r="$requests" 'BEGIN { printf "%.3f", w / r }')
    # GC pause per request, and the mean length of one collection's pause (the time a request in flight may lose).
    gc_figures=$(awk -v p="$pause" -v c="$collections" -v r="$requests" 'BEGIN { printf "%.1f\t%.0f", p / r, (c > 0 ? p / c : 0) }')
    if [[ -n $redis_cpu ]]; then
        redis_figures=$(awk -v c="$redis_cpu" -v s="$redis_scripts" -v r="$requests" 'BEGIN { printf "%.1f\t%.2f", c / r, s / r }')
        redis_words=$(awk -v c="$redis_cpu" -v s="$redis_scripts" -v r="$requests" 'BEGIN { printf "  Redis: %.1f µs CPU/request, %.2f scripts/request", c / r, s / r }')
    fi
    printf 'run\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%b\t%b\t%s\n' "$name" "$round" "$rps" "$cpu_us" "$(field p50_us "$line")" "$(field p99_us "$line")" "$errors" "$alloc" "$per_request_switches" "$redis_figures" "$gc_figures" "$per_request_writes" >>"$results"
    printf '%-24s round %s: %6s req/s  %7s µs CPU/request  p50 %s µs  p99 %s µs  errors %s  %s B allocated/request  %s switches/request  %s writes/request  GC %s µs pause/request, %s µs/collection%s\n' \
        "$name" "$round" "$rps" "$cpu_us" "$(field p50_us "$line")" "$(field p99_us "$line")" "$errors" "$alloc" "$per_request_switches" "$per_request_writes" "${gc_figures%%$'\t'*}" "${gc_figures##*$'\t'}" "$redis_words" >&2
}

current_pace=$pace_ms
for round in $(seq "$rounds"); do
    step "Round $round of $rounds"
    for name in "${names[@]}"; do
        pid=${pid_of[$name]}
        read -r allocated_before collections_before pause_before <<<"$(gc_counters "${port_of[$name]}")"
        switches_before=$(context_switches "$pid")
        writes_before=$(write_calls "$pid")
        redis_cpu="" redis_scripts=""
        [[ ${redis_of[$name]} != 1 ]] || read -r redis_cpu redis_scripts <<<"$(redis_counters)"
        ticks_before=$(cpu_ticks "$pid")
        line=$(wrk_run "$name" "$seconds" "$out/wrk-$name-r$round.txt")
        ticks=$(($(cpu_ticks "$pid") - ticks_before))
        switches=$(($(context_switches "$pid") - switches_before))
        writes=$(($(write_calls "$pid") - writes_before))
        read -r allocated collections pause <<<"$(gc_counters "${port_of[$name]}")"
        allocated=$((allocated - allocated_before)) collections=$((collections - collections_before)) pause=$((pause - pause_before))
        if [[ ${redis_of[$name]} == 1 ]]; then
            read -r redis_cpu_after redis_scripts_after <<<"$(redis_counters)"
            redis_cpu=$((redis_cpu_after - redis_cpu)) redis_scripts=$((redis_scripts_after - redis_scripts))
        fi
        record_round "$name" "$round" "$line" "$ticks" "$allocated" "$switches" "$redis_cpu" "$redis_scripts" "$collections" "$pause" "$writes"
    done
done

if [[ $record_perf -eq 1 ]]; then
    command -v perf >/dev/null || { echo "--perf needs perf (apt: linux-perf)" >&2; exit 1; }
    for name in "${names[@]}"; do
        step "perf record: $name"
        perf record -F 499 -g -o "$out/perf-$name.data" -p "${pid_of[$name]}" -- sleep "$seconds" 2>"$out/perf-$name.log" &
        perf_pid=$!
        wrk_run "$name" "$seconds" "$out/wrk-$name-perf.txt" >/dev/null
        wait "$perf_pid" || true
        perf report -i "$out/perf-$name.data" --no-children --sort symbol --percent-limit 0.7 --stdio 2>/dev/null \
            | grep -v '^$' | grep -E '^ +[0-9]' >"$out/perf-$name-self.txt" || true
        perf report -i "$out/perf-$name.data" --children --sort symbol --percent-limit 2 --stdio -g none 2>/dev/null \
            | grep -E '^ +[0-9]' >"$out/perf-$name-inclusive.txt" || true
        echo "top functions by own samples: $out/perf-$name-self.txt; including callees: $out/perf-$name-inclusive.txt" >&2
    done
fi

# Peak resident set of each gateway over the whole run (VmHWM), before the processes stop.
for name in "${names[@]}"; do
    printf 'peak\t%s\t%s\n' "$name" "$(peak_rss_kib "${pid_of[$name]}")" >>"$results"
done
stop_all

# The traces are complete once the gateways have exited.
if [[ $record_trace -eq 1 ]]; then
    for name in "${names[@]}"; do
        step "trace report: $name"
        dotnet "$root/tests/LlmGateway.Benchmarks/bin/Release/net10.0/LlmGateway.Benchmarks.dll" trace-report "$out/trace-$name.nettrace" \
            >"$out/trace-$name.md" || true
        rm -f "$out/trace-$name.nettrace.etlx"   # the reader's index of the trace, as large as the trace
        echo "collections and allocation sites: $out/trace-$name.md" >&2
    done
fi

# Medians per variant.
step "Medians of $rounds rounds ($connections connections, ${seconds} s each)"
printf '| variant | req/s | CPU µs/request | p50 µs | p99 µs | errors | allocated/request | switches/request | writes/request | GC pause µs/request | µs per GC pause | peak RSS | Redis CPU µs/request | Redis scripts/request |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n' | tee "$out/report.md"
for name in "${names[@]}"; do
    awk -F'\t' -v n="$name" '
        function median(a, k,   i, j, t) { for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t } return a[int((k + 1) / 2)] }
        $1 == "run" && $2 == n { k++; rps[k] = $4 + 0; cpu[k] = $5 + 0; p50[k] = $6 + 0; p99[k] = $7 + 0; err += $8; alloc[k] = $9 + 0; sw[k] = $10 + 0; redis = ($11 != "-" && $11 != ""); rcpu[k] = $11 + 0; rscripts[k] = $12 + 0; gcr[k] = $13 + 0; gcc[k] = $14 + 0; wr[k] = $15 + 0 }
        $1 == "peak" && $2 == n { peak = $3 / 1024 }
        END {
            printf "| %s | %.0f | %.1f | %.0f | %.0f | %d | %.0f B | %.2f | %.3f | %.1f | %.0f | %.0f MiB |", n, median(rps, k), median(cpu, k), median(p50, k), median(p99, k), err, median(alloc, k), median(sw, k), median(wr, k), median(gcr, k), median(gcc, k), peak
            if (redis) printf " %.1f | %.2f |\n", median(rcpu, k), median(rscripts, k); else printf " | |\n"
        }
    ' "$results"
done | tee -a "$out/report.md"
echo "Raw results and logs: $out" >&2
