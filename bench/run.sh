#!/usr/bin/env bash
# Runs every benchmark in bench/ and prints their FIGURE lines. Usage: bench/run.sh [BUILD_DIR]
set -euo pipefail
build="${1:-build}"
cd "$(dirname "$0")/.."
echo "== commands_bench (issue 2: commands/s, latency, commits per fsync, memory)"
"$build/bench/commands_bench"
echo "== routing_bench (issue 3: routed internal calls/s, request->offer latency)"
"$build/bench/routing_bench"
echo "== projections_bench (issue 4: projection build rate, get/chain latency, replay time)"
"$build/bench/projections_bench"
echo "== kafka_bench (issue 6: events published/s next to kcat -P)"
"$build/bench/kafka_bench"
echo "== http_bench (issue 5: the server core under wrk, async POST next to GET /livez)"
"$build/bench/http_bench"
echo "== api_bench (issue 5: Telephony API creates + updates through the engine, next to GET /livez)"
"$build/bench/api_bench"
