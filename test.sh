#!/usr/bin/env bash
# Runs every test suite on a fresh machine: installs what the tests need (Redis 8, Redis 7 for one refusal test, Prometheus,
# docker-compose for validating deploy/), builds the
# solution once, runs each test project, and ends with one line: "N passed, N failed".
# Usage: ./test.sh [extra dotnet test arguments, e.g. --filter FullyQualifiedName~Metering]
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

step() { printf '\n== %s\n' "$*"; }

step "Installing test dependencies"
bash tests/infra/install-redis8.sh >/dev/null || { echo "could not install Redis 8"; echo "0 passed, 1 failed"; exit 1; }
bash tests/infra/install-redis7.sh >/dev/null || { echo "could not install Redis 7"; echo "0 passed, 1 failed"; exit 1; }
bash tests/infra/install-prometheus.sh || { echo "could not install Prometheus"; echo "0 passed, 1 failed"; exit 1; }
bash tests/infra/install-compose.sh || { echo "could not install docker-compose"; echo "0 passed, 1 failed"; exit 1; }

step "Building"
if ! dotnet build LlmGateway.sln -c Release -nologo -v quiet; then
    echo "the build failed"
    echo "0 passed, 1 failed"
    exit 1
fi

results="TestResults/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$results"
passed=0
failed=0
status=0
for project in tests/*/; do
    name=$(basename "$project")
    grep -qs '<IsTestProject>true</IsTestProject>' "$project/$name.csproj" || continue
    step "Testing $name"
    trx="$results/$name.trx"
    dotnet test "$project" -c Release --no-build -nologo --logger "trx;LogFileName=$PWD/$trx" --logger "console;verbosity=minimal" "$@" || status=1
    if [[ -f "$trx" ]]; then
        counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
        suite_passed=$(sed -E 's/.* passed="([0-9]+)".*/\1/' <<<"$counters")
        suite_failed=$(sed -E 's/.* failed="([0-9]+)".*/\1/' <<<"$counters")
        suite_errors=$(sed -E 's/.* error="([0-9]+)".*/\1/' <<<"$counters")
        passed=$((passed + suite_passed))
        failed=$((failed + suite_failed + suite_errors))
    else
        echo "$name produced no results"
        failed=$((failed + 1))
    fi
done

if [[ $passed -eq 0 && $failed -eq 0 ]]; then
    echo "no tests ran"
    failed=1
fi

echo
echo "$passed passed, $failed failed"
[[ $failed -eq 0 && $status -eq 0 ]]
