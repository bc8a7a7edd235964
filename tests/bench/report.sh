#!/bin/bash
# Benchmark of `auditlog report` (the compliance reporter): the time to
# write the whole evidence (report.json, .md, .html, population.csv and
# the signed bundle) for a period holding N events, for each N given.
# Prints figures; asserts nothing about speed.
#
#   tests/bench/report.sh [N ...]      (default: 1000000 10000000)
#
# Each store holds 90 days of demo history (`auditlog demo history`: the
# report inputs, about 707,000 events, received at their simulated times)
# and then N minus those events from bench_gen_events (373 bytes on
# average, their times close to when they are received), so the period
# of the report (the 90 days and today) holds exactly N events. A
# checkpoint after the period makes the report complete and the bundle
# signed. Needs ./build (tools/setup); the stores go to a temporary
# directory ($TMPDIR), 1.2 GB for 10 M events.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/../.."

A=${AUDITLOG:-./build/tools/auditlog}
GEN=${BENCH_BIN:-./build/tests}/bench_gen_events
[ -x "$A" ] && [ -x "$GEN" ] || { echo "report.sh: build first (tools/setup)" >&2; exit 1; }
[ $# -gt 0 ] || set -- 1000000 10000000

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
calc() { awk "BEGIN { printf \"%.2f\", $* }"; }
rss_kb() { awk '/Maximum resident/ { print $NF }' "$1"; }
elapsed() { awk '/Elapsed \(wall clock\)/ { n = split($NF, a, ":"); s = 0;
	for (i = 1; i <= n; i++) s = s * 60 + a[i]; print s }' "$1"; }

end=$(date -u +%F)
from=$(date -u -d "$end - 90 days" +%F)
printf '%-10s %10s %12s %14s %12s %12s\n' events "report s" "events/s" \
	"peak RSS MiB" "csv MiB" "ingest s"
for n in "$@"; do
	s="$T/s$n"
	"$A" init --store "$s" >/dev/null 2>&1
	"$A" demo history --store "$s" --days 90 --end "$end" >/dev/null 2>&1
	have=$("$A" info --store "$s" | sed 's/.*"tree_size":\([0-9]*\).*/\1/')
	if [ "$n" -le "$have" ]; then
		echo "report.sh: N=$n is not more than the history's $have events" >&2
		exit 2
	fi
	"$GEN" $((n - have)) 1 "$(date +%s)" 20 > "$T/app.ndjson"
	/usr/bin/time -v "$A" ingest --store "$s" "$T/app.ndjson" \
		2> "$T/ingest.time" >/dev/null
	rm -f "$T/app.ndjson"
	to=$(date -u +%FT%T.%6NZ)
	# one record after the period, so that the checkpoint signs it
	echo '{"type":"bench.tick","id":"tick"}' | "$A" ingest --store "$s" \
		>/dev/null 2>&1
	"$A" checkpoint --store "$s" >/dev/null
	/usr/bin/time -v "$A" report --store "$s" --from "$from" --to "$to" \
		--out "$T/r$n" --no-record > /dev/null 2> "$T/report.time"
	grep -q "complete (bracketed" "$T/report.time" ||
		{ cat "$T/report.time" >&2; exit 1; }
	secs=$(elapsed "$T/report.time")
	pop=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["population"]["count"])' \
		"$T/r$n/report.json")
	printf '%-10s %10.2f %12.0f %14.0f %12.0f %12.1f\n' "$pop" "$secs" \
		"$(calc "$pop / $secs")" "$(calc "$(rss_kb "$T/report.time") / 1024")" \
		"$(calc "$(stat -c %s "$T/r$n/population.csv") / 1048576")" \
		"$(elapsed "$T/ingest.time")"
	rm -rf "$s" "$s.key" "$s.vkey" "$T/r$n"
done
