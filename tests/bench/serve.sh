#!/bin/sh
# Benchmark of `auditlog serve` against stdin ingest (socket ingest).
# Prints figures and ratios; asserts nothing about speed.
#
#   [WINDOW=W] tests/bench/serve.sh [EVENTS_PER_RUN]   (default 80000; W
#   events in flight per producer, default 128)
#
# For 1, 8 and 64 producers over the Unix socket, each writing a line a
# system call, and for 8 that write the lines their window has room for in
# one call ("8w"): acked events per second and answer latency percentiles;
# and the ratio of each to `auditlog ingest` of the same number of events
# from a file. Needs ./build (run tools/setup first).
set -eu
cd "$(dirname "$0")/../.."
A=./build/tools/auditlog
L=./build/tests/bench_serve
N=${1:-80000}
T=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$T"' EXIT
pid=

$A init --store "$T/in" >/dev/null 2>&1
$L --print 8 $((N / 8)) s > "$T/events.ndjson"
start=$(date +%s.%N)
$A ingest --store "$T/in" "$T/events.ndjson" 2>/dev/null
end=$(date +%s.%N)
calc() { awk "BEGIN { print $* }"; }
stdin_eps=$(calc "$N / ($end - $start)")
printf 'stdin ingest: %d events in %.2f s: %.0f events/s\n' "$N" \
	"$(calc "$end - $start")" "$stdin_eps"

$A init --store "$T/srv" >/dev/null 2>&1
$A serve --store "$T/srv" --socket "$T/s.sock" 2>"$T/serve.log" &
pid=$!
i=0
while [ ! -S "$T/s.sock" ]; do
	i=$((i + 1))
	[ $i -lt 500 ] || { echo "serve did not start" >&2; cat "$T/serve.log" >&2; exit 1; }
	sleep 0.01
done

printf '%-10s %12s %10s %10s %10s %14s\n' producers acked/s p50_ms p90_ms p99_ms "ratio to stdin"
# 8w: 8 producers that write the lines their window has room for in one
# call (BENCH_WRITES=window), the others a line a call
for p in 1 8 64 8w; do
	n=${p%w}
	w=line
	[ "$p" = "$n" ] || w=window
	out=$(BENCH_WRITES=$w $L "$T/s.sock" $n $((N / n)) ${WINDOW:-128} "p$p")
	eps=$(echo "$out" | sed 's/.*"acked_per_s":\([0-9.]*\).*/\1/')
	p50=$(echo "$out" | sed 's/.*"p50_ms":\([0-9.]*\).*/\1/')
	p90=$(echo "$out" | sed 's/.*"p90_ms":\([0-9.]*\).*/\1/')
	p99=$(echo "$out" | sed 's/.*"p99_ms":\([0-9.]*\).*/\1/')
	printf '%-10s %12.0f %10s %10s %10s %14.2f\n' "$p" "$eps" "$p50" "$p90" "$p99" \
		"$(calc "$eps / $stdin_eps")"
done
kill -TERM $pid
wait $pid || true
pid=
$A verify --store "$T/srv" >/dev/null && echo "verify: ok"
