#!/usr/bin/env bash
# The gateway's benchmark: in one run, builds Release, installs what it needs, starts a fixed-response upstream,
# the mock provider, nginx as a plain reverse proxy, the Portkey gateway and the gateway itself (once per
# scenario in scenarios/), drives each with wrk at one connection and at saturation, measures streaming time to
# first byte and memory, and prints a table with ratios against direct, nginx and Portkey. See docs/benchmarks.md.
#
# Usage: tests/benchmarks/run.sh [--duration SECONDS] [--connections N] [--soak [MINUTES]]
#   --duration     seconds per target and connection count, split into 3 interleaved rounds (default 12)
#   --connections  connections for the saturation runs (default 16)
#   --soak         instead of the table: the full pipeline at saturation for MINUTES (default 10), RSS every 10 s
# Environment: BENCH_PROXY_CPUS (default 0) runs the proxy under test; BENCH_LOAD_CPUS (default 1) runs wrk, the
# upstream and the mock provider; BENCH_JIT_WARMUP (default 30) is the warm-up in seconds of every target whose code
# a JIT compiles as it runs: the .NET processes and the Portkey gateway on Node (a smoke run of the harness can
# shorten it; the figures then come from code that has not finished tiering up). Every server binds to 127.0.0.1 and is stopped by the PID that started it.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bench="$root/tests/benchmarks"
duration=12
connections=16
warmup=3
# .NET processes pinned to one CPU tier up only after a long quiet spell (see start_gateway); even with the fix they
# need about 20 s of load before their hot paths run optimised code. Node's V8 needs as long: the Portkey gateway
# used 4.5 ms of CPU per request in its first 5 s of load and 1.5 ms from the fourth 5 s round on.
jit_warmup=${BENCH_JIT_WARMUP:-30}
rounds=3
soak_minutes=0
proxy_cpus=${BENCH_PROXY_CPUS:-0}
load_cpus=${BENCH_LOAD_CPUS:-1}
ttfb_count=60
latency_seconds=5
upstream_api_key="sk-bench-upstream"
clock_ticks=$(getconf CLK_TCK)

while [[ $# -gt 0 ]]; do
    case "$1" in
        --duration) duration=$2; shift 2 ;;
        --connections) connections=$2; shift 2 ;;
        --soak)
            soak_minutes=10
            if [[ ${2:-} =~ ^[0-9]+$ ]]; then soak_minutes=$2; shift; fi
            shift ;;
        *) echo "unknown argument: $1 (see the usage at the top of $0)" >&2; exit 2 ;;
    esac
done

out="$root/artifacts/benchmarks/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
results="$out/results.tsv"
: >"$results"

step() { printf '\n== %s\n' "$*" >&2; }

# ---------------------------------------------------------------------------------------------- processes
# shellcheck source=tests/benchmarks/lib/processes.sh
source "$bench/lib/processes.sh"

# ---------------------------------------------------------------------------------------------- install, build
install_tools() {
    step "Installing wrk, nginx and the Portkey gateway (idempotent)"
    local missing=()
    command -v wrk >/dev/null || missing+=(wrk)
    command -v hey >/dev/null || missing+=(hey)
    command -v nginx >/dev/null || missing+=(nginx-light)
    command -v taskset >/dev/null || missing+=(util-linux)
    if [[ ${#missing[@]} -gt 0 ]]; then
        if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; then
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
        fi
    fi
    command -v node >/dev/null || { echo "Node.js 20 is needed for the Portkey gateway" >&2; exit 1; }
    local installed
    installed=$(node -p "require('$bench/portkey/node_modules/@portkey-ai/gateway/package.json').version" 2>/dev/null || true)
    if [[ $installed != "1.15.2" ]]; then
        (cd "$bench/portkey" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
    fi
}

build() {
    step "Building the gateway and the mock provider (Release)"
    dotnet build "$root/src/LlmGateway/LlmGateway.csproj" -c Release -nologo -v quiet
    gateway_dll="$root/src/LlmGateway/bin/Release/net10.0/LlmGateway.dll"
    mock_dll="$root/src/LlmGateway.MockProvider/bin/Release/net10.0/LlmGateway.MockProvider.dll"
    dotnet build "$bench/floor/LlmGateway.Floor.csproj" -c Release -nologo -v quiet
    floor_dll="$bench/floor/bin/Release/net10.0/LlmGateway.Floor.dll"
}

# ---------------------------------------------------------------------------------------------- servers
nginx_prefix() {
    local dir="$out/$1"
    mkdir -p "$dir/temp"
    echo "$dir"
}

nginx_common() {
    local dir=$1
    cat <<EOF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
EOF
}

nginx_http_common() {
    local dir=$1
    cat <<EOF
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    client_body_temp_path $dir/temp/body;
    proxy_temp_path $dir/temp/proxy;
    fastcgi_temp_path $dir/temp/fastcgi;
    uwsgi_temp_path $dir/temp/uwsgi;
    scgi_temp_path $dir/temp/scgi;
EOF
}

# The fixed-response upstream: nginx answering every request with the same chat completion.
start_static_upstream() {
    local dir body
    dir=$(nginx_prefix upstream)
    upstream_port=$(free_port)
    body=$(tr -d '\n' <"$bench/upstream/chat-completion.json")
    {
        nginx_common "$dir"
        echo "http {"
        nginx_http_common "$dir"
        echo "    server { listen 127.0.0.1:$upstream_port; default_type application/json; location / { return 200 '$body'; } }"
        echo "}"
    } >"$dir/nginx.conf"
    start_pinned "$load_cpus" "$dir/stdout.log" nginx -p "$dir" -c "$dir/nginx.conf"
    upstream_pid=$last_pid
    wait_for_http "http://127.0.0.1:$upstream_port/" "$upstream_pid" "the static upstream"
}

start_mock() {
    mock_port=$(free_port)
    start_pinned "$load_cpus" "$out/mock.log" env "${dotnet_env[@]}" dotnet "$mock_dll" --urls "http://127.0.0.1:$mock_port" \
        --contentRoot "$(dirname "$mock_dll")" \
        --MockProvider:CompletionTokens=100 --MockProvider:TokenDelayMs=1 --Logging:LogLevel:Default=Warning
    mock_pid=$last_pid
    wait_for_http "http://127.0.0.1:$mock_port/v1/models" "$mock_pid" "the mock provider"
}

# nginx as a plain reverse proxy with pooled HTTP/1.1 upstream connections: one port to the static upstream,
# one (unbuffered, for server-sent events) to the mock provider.
start_nginx_proxy() {
    local dir
    dir=$(nginx_prefix nginx-proxy)
    nginx_port=$(free_port)
    nginx_stream_port=$(free_port)
    {
        nginx_common "$dir"
        echo "http {"
        nginx_http_common "$dir"
        cat <<EOF
    upstream fixed { server 127.0.0.1:$upstream_port; keepalive 256; }
    upstream mock { server 127.0.0.1:$mock_port; keepalive 256; }
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    server { listen 127.0.0.1:$nginx_port; location / { proxy_pass http://fixed; } }
    server { listen 127.0.0.1:$nginx_stream_port; location / { proxy_buffering off; proxy_pass http://mock; } }
}
EOF
    } >"$dir/nginx.conf"
    start_pinned "$proxy_cpus" "$dir/stdout.log" nginx -p "$dir" -c "$dir/nginx.conf"
    nginx_pid=$last_pid
    wait_for_http "http://127.0.0.1:$nginx_port/" "$nginx_pid" "the nginx proxy"
}

# The Portkey gateway from npm, with two preloaded shims: loopback.cjs binds it to 127.0.0.1, stream-headers.cjs lets
# its streamed answers through (Portkey 1.15.2 fails every stream under Node with a 500; see the file).
start_portkey() {
    portkey_port=$(free_port)
    start_pinned "$proxy_cpus" "$out/portkey.log" node --require "$bench/portkey/loopback.cjs" \
        --require "$bench/portkey/stream-headers.cjs" \
        "$bench/portkey/node_modules/@portkey-ai/gateway/build/start-server.js" --port="$portkey_port" --headless
    portkey_pid=$last_pid
    wait_for_http "http://127.0.0.1:$portkey_port/" "$portkey_pid" "the Portkey gateway"
}

portkey_headers() {
    echo "x-portkey-provider: openai|x-portkey-custom-host: http://127.0.0.1:$1/v1|Authorization: Bearer $upstream_api_key"
}

# The floor under the gateway (floor/Program.cs): ASP.NET Core answering by itself, and YARP's forwarder with no
# stage around it. The gateway's own cost is its distance from these, on the same core and runtime settings.
# start_floor NAME DESCRIPTION READY_PATH MODE [UPSTREAM]: starts one floor; sets $floor_port and $last_pid.
start_floor() {
    local name=$1 description=$2 ready_path=$3
    shift 3
    floor_port=$(free_port)
    start_pinned "$proxy_cpus" "$out/$name.log" env "${dotnet_env[@]}" dotnet "$floor_dll" "$1" "http://127.0.0.1:$floor_port" "${@:2}"
    wait_for_http "http://127.0.0.1:$floor_port$ready_path" "$last_pid" "$description"
}

start_floors() {
    start_floor floor-kestrel "the ASP.NET Core floor" / kestrel
    floor_kestrel_port=$floor_port floor_kestrel_pid=$last_pid
    start_floor floor-yarp "the YARP floor" / yarp "http://127.0.0.1:$upstream_port"
    floor_yarp_port=$floor_port floor_yarp_pid=$last_pid
    # The same forwarder in front of the mock, for the streaming rows: what YARP alone adds to time to first byte.
    start_floor floor-yarp-stream "the YARP floor (streams)" /v1/models yarp "http://127.0.0.1:$mock_port"
    floor_yarp_stream_port=$floor_port
}

# The gateway (Release, Server GC from its project file), configured by a scenario folder's appsettings.json, and
# started as deploy/Dockerfile starts it (dotnet_env in lib/processes.sh). A scenario with OTLP=1 exports its traces
# and metrics to the OTLP sink; one with REDIS=1 keeps its shared state (keys' limits, budgets, spend, cache) in Redis.
start_gateway() {
    local scenario_dir=$1 upstream_url=$2 otlp=${3:-0} redis=${4:-0} name
    name=$(basename "$scenario_dir")
    gateway_port=$(free_port)
    scenario_arguments "$load_cpus" "$otlp" "$redis"
    start_gateway_pinned "$proxy_cpus" "$out/gateway-$name.log" "$load_cpus" env \
        BENCH_UPSTREAM_URL="$upstream_url" BENCH_UPSTREAM_API_KEY="$upstream_api_key" \
        "${dotnet_env[@]}" BENCH_MOCK_URL="http://127.0.0.1:${mock_port:-0}/v1" \
        dotnet "$gateway_dll" --urls "http://127.0.0.1:$gateway_port" --contentRoot "$scenario_dir" "${scenario_args[@]}"
    gateway_pid=$last_pid
    wait_for_http "http://127.0.0.1:$gateway_port/healthz" "$gateway_pid" "the gateway ($name)"
}

# Sends one request before any load (e.g. the answer a semantic-cache scenario then hits), and waits until the
# gateway has stored it: the next request must not be a miss.
seed() {
    local url=$1 body=$2 headers=$3 name=$4 args=() header
    IFS='|' read -ra header <<<"$headers"
    for h in "${header[@]}"; do args+=(-H "$h"); done
    curl -fsS -o /dev/null -H 'Content-Type: application/json' "${args[@]}" --data-binary "@$bench/requests/$body" "$url" || {
        echo "the seed request of $name failed" >&2
        exit 1
    }
    sleep 1
}

# ---------------------------------------------------------------------------------------------- measurements
# wrk with one thread on the load CPUs; prints the script's RESULT line.
wrk_run() {
    local url=$1 body=$2 headers=$3 conns=$4 seconds=$5 log=$6
    BENCH_BODY_FILE="$bench/requests/$body" BENCH_HEADERS="$headers" \
        taskset -c "$load_cpus" wrk -t1 -c"$conns" -d"${seconds}s" --latency -s "$bench/lib/post.lua" "$url" >"$log" 2>&1 || {
        echo "wrk failed against $url; see $log" >&2
        exit 1
    }
    grep '^RESULT ' "$log"
}

field() { sed -E "s/.* $1=([0-9]+).*/\1/" <<<"$2"; }

# Appends a load row. CPU_TICKS, when known, is the CPU the proxy used during the run: CPU time per request is
# far less disturbed by other work on the machine than latency or throughput are.
record_load() {
    local target=$1 conns=$2 line=$3 cpu_ticks=${4:-} requests duration_us cpu_us=""
    requests=$(field requests "$line")
    duration_us=$(field duration_us "$line")
    if [[ -n $cpu_ticks ]]; then
        cpu_us=$(awk -v t="$cpu_ticks" -v hz="$clock_ticks" -v r="$requests" 'BEGIN { printf "%.0f", t * 1000000 / hz / r }')
    fi
    printf 'load\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$conns" \
        "$(awk -v r="$requests" -v d="$duration_us" 'BEGIN { printf "%.0f", r * 1000000 / d }')" \
        "$(field p50_us "$line")" "$(field p99_us "$line")" "$(field non2xx "$line")" "$(field socket_errors "$line")" "$cpu_us" >>"$results"
}

# Runs wrk and records the row (with the round), with the proxy's CPU time when PID is given.
load_run() {
    local round=$1 target=$2 url=$3 body=$4 headers=$5 conns=$6 pid=$7 seconds=$8 before="" line
    [[ -n $pid ]] && before=$(cpu_ticks "$pid")
    line=$(wrk_run "$url" "$body" "$headers" "$conns" "$seconds" "$out/wrk-$target-c$conns-r$round.txt")
    record_load "$target" "$conns" "$line" "${before:+$(($(cpu_ticks "$pid") - before))}"
    tail -n 1 "$results" >&2
}

ttfb_run() {
    local target=$1 url=$2 body=$3 headers=$4 count=$5 line
    [[ -n ${ttfb_failed[$target]:-} ]] && return 0
    if ! line=$(taskset -c "$load_cpus" node "$bench/lib/ttfb.mjs" "$url" "$bench/requests/$body" "$headers" "$count" 5 2>"$out/ttfb-$target.err"); then
        # A peer that cannot stream is a finding to report, not a reason to lose the rest of the run.
        ttfb_failed[$target]=1
        printf 'ttfb-failed\t%s\t%s\n' "$target" "$(grep -m1 '^Error' "$out/ttfb-$target.err" | cut -c1-160)" >>"$results"
        tail -n 1 "$results" >&2
        return 0
    fi
    printf 'ttfb\t%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$(field count "$line")" "$(field ttfb_p50_us "$line")" \
        "$(field ttfb_p99_us "$line")" "$(field total_p50_us "$line")" "$(field events_min "$line")" >>"$results"
    tail -n 1 "$results" >&2
}

# Targets: name, url, request, headers, pid (empty: not a proxy, no CPU or memory recorded), joined by the ASCII
# unit separator because headers contain '|' and fields may be empty.
sep=$'\x1f'
load_targets=()
ttfb_targets=()
declare -A ttfb_failed=()

# Starts one gateway per scenario folder and adds it to the targets.
start_scenarios() {
    local dir name DESCRIPTION KIND UPSTREAM REQUEST HEADERS SEED_REQUEST OTLP REDIS upstream_url url
    for dir in "$bench"/scenarios/*/; do
        dir=${dir%/}
        name=$(basename "$dir")
        DESCRIPTION="" KIND="" UPSTREAM="" REQUEST="" HEADERS="" SEED_REQUEST="" OTLP=0 REDIS=0
        # shellcheck source=/dev/null
        source "$dir/scenario.env"
        printf 'scenario\tgateway:%s\t%s\n' "$name" "$DESCRIPTION" >>"$results"
        case "$UPSTREAM" in
            static) upstream_url="http://127.0.0.1:$upstream_port/v1" ;;
            mock) upstream_url="http://127.0.0.1:$mock_port/v1" ;;
            *) echo "$dir/scenario.env: UPSTREAM must be static or mock" >&2; exit 1 ;;
        esac
        start_gateway "$dir" "$upstream_url" "$OTLP" "$REDIS"
        url="http://127.0.0.1:$gateway_port/v1/chat/completions"
        [[ -z "$SEED_REQUEST" ]] || seed "$url" "$SEED_REQUEST" "$HEADERS" "$name"
        case "$KIND" in
            load) load_targets+=("gateway:$name${sep}$url${sep}$REQUEST${sep}$HEADERS${sep}$gateway_pid") ;;
            ttfb) ttfb_targets+=("gateway:$name${sep}$url${sep}$REQUEST${sep}$HEADERS${sep}$gateway_pid") ;;
            *) echo "$dir/scenario.env: KIND must be load or ttfb" >&2; exit 1 ;;
        esac
    done
}

machine() {
    printf 'machine\tcpu\t%s\n' "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)" >>"$results"
    printf 'machine\tcores\t%s\n' "$(nproc)" >>"$results"
    printf 'machine\tmemory\t%s\n' "$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)" >>"$results"
    printf 'machine\tload before the run\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$results"
    printf 'machine\tsettings\t%s rounds of %ss per target and connection count, interleaved across targets; warm-up %ss (%ss for the gateways, the floors, the mock and Portkey); saturation %s connections; proxies on CPU %s, wrk and upstreams on CPU %s\n' \
        "$rounds" "$((duration / rounds))" "$warmup" "$jit_warmup" "$connections" "$proxy_cpus" "$load_cpus" >>"$results"
}

soak() {
    local samples="$out/soak-rss.tsv" seconds=$((soak_minutes * 60)) started wrk_pid REQUEST HEADERS OTLP=0 REDIS=0
    step "Soak: the full pipeline at $connections connections for $soak_minutes minutes, RSS every 10 s"
    start_static_upstream
    # shellcheck source=/dev/null
    source "$bench/scenarios/full-pipeline/scenario.env"
    start_gateway "$bench/scenarios/full-pipeline" "http://127.0.0.1:$upstream_port/v1" "$OTLP" "$REDIS"
    # Besides RSS, where it is: anonymous, file-backed and shared (the runtime's double-mapped JIT code) pages, and from
    # the gateway's /metrics the GC's committed memory and how many methods the JIT has compiled so far. Growth outside
    # the GC's figure points at native memory; with compilations still rising, the JIT's (docs/benchmarks.md).
    printf 'seconds\trss_kib\tanon_kib\tfile_kib\tshmem_kib\tgc_committed_kib\tjit_methods\n' >"$samples"
    BENCH_BODY_FILE="$bench/requests/$REQUEST" BENCH_HEADERS="$HEADERS" taskset -c "$load_cpus" \
        wrk -t1 -c"$connections" -d"${seconds}s" --latency -s "$bench/lib/post.lua" \
        "http://127.0.0.1:$gateway_port/v1/chat/completions" >"$out/wrk-soak.txt" 2>&1 &
    wrk_pid=$!
    started=$SECONDS
    while kill -0 "$wrk_pid" 2>/dev/null; do
        printf '%s\t%s\t%s\t%s\n' $((SECONDS - started)) "$(rss_kib "$gateway_pid")" "$(resident_parts_kib "$gateway_pid")" \
            "$(runtime_memory_figures "http://127.0.0.1:$gateway_port/metrics")" | tee -a "$samples" >&2
        sleep 10
    done
    wait "$wrk_pid"
    grep '^RESULT ' "$out/wrk-soak.txt" >&2
    node "$bench/lib/soak-report.mjs" "$samples"
}

# hey at one connection records every request's latency. wrk's one-connection percentiles can disagree with its
# own request count at high rates (an average latency above the run's duration divided by its requests), so the
# one-connection p99 targets are read from this table. Bodies that wrk makes unique per request are skipped.
latency_run() {
    local name=$1 url=$2 body=$3 headers=$4 args=() header csv="$out/hey-$name.csv"
    grep -q '__UNIQUE__' "$bench/requests/$body" && return 0
    IFS='|' read -ra header <<<"$headers"
    for h in "${header[@]}"; do args+=(-H "$h"); done
    taskset -c "$load_cpus" hey -z "${latency_seconds}s" -c 1 -m POST -T application/json -D "$bench/requests/$body" \
        "${args[@]}" -o csv "$url" >"$csv" 2>&1 || { echo "hey failed against $url; see $csv" >&2; return 0; }
    # Columns: response-time (s), ..., status-code, offset. Percentiles in µs over every request answered 200.
    local bad
    bad=$(awk -F, 'NR > 1 && $1 + 0 == $1 && $7 != 200' "$csv" | wc -l)
    awk -F, 'NR > 1 && $1 + 0 == $1 && $7 == 200 { printf "%d\n", $1 * 1e6 }' "$csv" | sort -n \
        | awk -v name="$name" -v bad="$bad" '{ v[NR] = $1 } END { if (NR > 0) printf "latency\t%s\t%d\t%d\t%d\t%d\t%d\n", name, NR, v[int((NR - 1) * 0.5) + 1], v[int((NR - 1) * 0.99) + 1], v[NR], bad }' \
        >>"$results"
}

# ---------------------------------------------------------------------------------------------- main
install_tools
build

if [[ $soak_minutes -gt 0 ]]; then
    soak
    exit 0
fi

machine
step "Starting the upstreams, the baselines and one gateway per scenario"
start_static_upstream
start_mock
start_nginx_proxy
start_floors
start_portkey
start_scenarios

load_targets=(
    "direct${sep}http://127.0.0.1:$upstream_port/v1/chat/completions${sep}chat.json${sep}${sep}"
    "direct-mock${sep}http://127.0.0.1:$mock_port/v1/chat/completions${sep}chat.json${sep}${sep}$mock_pid"
    "nginx${sep}http://127.0.0.1:$nginx_port/v1/chat/completions${sep}chat.json${sep}${sep}$nginx_pid"
    "portkey${sep}http://127.0.0.1:$portkey_port/v1/chat/completions${sep}chat.json${sep}$(portkey_headers "$upstream_port")${sep}$portkey_pid"
    "floor:aspnetcore${sep}http://127.0.0.1:$floor_kestrel_port/v1/chat/completions${sep}chat.json${sep}${sep}$floor_kestrel_pid"
    "floor:yarp${sep}http://127.0.0.1:$floor_yarp_port/v1/chat/completions${sep}chat.json${sep}${sep}$floor_yarp_pid"
    "${load_targets[@]}"
)
ttfb_targets=(
    "direct-mock${sep}http://127.0.0.1:$mock_port/v1/chat/completions${sep}chat-stream.json${sep}${sep}"
    "nginx${sep}http://127.0.0.1:$nginx_stream_port/v1/chat/completions${sep}chat-stream.json${sep}${sep}"
    "floor:yarp${sep}http://127.0.0.1:$floor_yarp_stream_port/v1/chat/completions${sep}chat-stream.json${sep}${sep}"
    "portkey${sep}http://127.0.0.1:$portkey_port/v1/chat/completions${sep}chat-stream.json${sep}$(portkey_headers "$mock_port")${sep}"
    "${ttfb_targets[@]}"
)

for target in "${load_targets[@]}"; do
    IFS=${sep} read -r name _ _ _ pid <<<"$target"
    [[ -n $pid ]] && printf 'rss-rest\t%s\t%s\n' "$name" "$(rss_kib "$pid")" >>"$results"
done

# Every target is measured in several short rounds, interleaved, so that a burst of other work on the machine
# lands on all of them alike instead of on whichever target happened to run then; the report takes medians.
step "Warm-up: ${warmup}s per target (${jit_warmup}s for those a JIT compiles: .NET and Node) at $connections connections"
for target in "${load_targets[@]}"; do
    IFS=${sep} read -r name url body headers pid <<<"$target"
    seconds=$warmup
    [[ $name == gateway:* || $name == floor:* || $name == direct-mock || $name == portkey ]] && seconds=$jit_warmup
    wrk_run "$url" "$body" "$headers" "$connections" "$seconds" "$out/wrk-$name-warmup.txt" >/dev/null
done
for target in "${ttfb_targets[@]}"; do
    IFS=${sep} read -r name url body headers pid <<<"$target"
    [[ $name == gateway:* || $name == floor:* ]] || continue
    wrk_run "$url" "$body" "$headers" "$connections" "$jit_warmup" "$out/wrk-$name-warmup.txt" >/dev/null
done
for round in $(seq "$rounds"); do
    step "Load, round $round of $rounds"
    for target in "${load_targets[@]}"; do
        IFS=${sep} read -r name url body headers pid <<<"$target"
        load_run "$round" "$name" "$url" "$body" "$headers" 1 "$pid" "$((duration / rounds))"
        load_run "$round" "$name" "$url" "$body" "$headers" "$connections" "$pid" "$((duration / rounds))"
    done
done
for target in "${load_targets[@]}"; do
    IFS=${sep} read -r name _ _ _ pid <<<"$target"
    [[ -n $pid ]] && printf 'rss-peak\t%s\t%s\n' "$name" "$(peak_rss_kib "$pid")" >>"$results"
done

step "Per-request latency at one connection (hey, ${latency_seconds}s per target)"
for target in "${load_targets[@]}"; do
    IFS=${sep} read -r name url body headers _ <<<"$target"
    latency_run "$name" "$url" "$body" "$headers"
done

for round in $(seq "$rounds"); do
    step "Streaming time to first byte, round $round of $rounds"
    for target in "${ttfb_targets[@]}"; do
        IFS=${sep} read -r name url body headers _ <<<"$target"
        ttfb_run "$name" "$url" "$body" "$headers" $((ttfb_count / rounds))
    done
done

stop_all
node "$bench/lib/report.mjs" "$results" | tee "$out/report.md"
echo "Raw results and logs: $out" >&2
