#!/bin/bash
# Benchmark of auditlog against SQLite and PostgreSQL, and against the
# machine's limits, on the same generated events, in one run.
# Prints figures and ratios with the performance goals beside them; asserts
# nothing about speed. See tests/bench/README.md for what each figure is.
#
#   tests/bench/compare.sh [N ...]      (default: 1000000 events)
#
# For each N: generate N events (bench_gen_events, seed $SEED, default 1);
# measure the single-core limits on them (bench_limits); `auditlog ingest`
# them from the file into a fresh store, polling its RssAnon/RssFile every
# 50 ms; checkpoint, `verify`, `report` and proof latency (bench_proofs)
# on that store; `auditlog serve` with 8 producers (bench_serve, which
# sends its own ~370-byte events); SQLite (bench_sqlite) and PostgreSQL 15
# COPY into jsonb (a throwaway cluster) of the same file. Then one table,
# one column per N.
#
# Helpers are taken from $BENCH_BIN when set, else ./build/tests (meson
# builds them, see tests/meson.build); auditlog from $AUDITLOG, else
# ./build/tools/auditlog. As root, missing Debian packages (sqlite3,
# libsqlite3-dev, postgresql-15) are installed with apt-get; otherwise a
# missing peer is skipped with a note. Needs bash, awk, du, runuser.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/../.."

A=${AUDITLOG:-./build/tools/auditlog}
BIN=${BENCH_BIN:-./build/tests}
SEED=${SEED:-1}
PRODUCERS=8
WINDOW=${WINDOW:-128}
PROOF_N=${PROOF_N:-10000}
PG_BIN=/usr/lib/postgresql/15/bin

if [ $# -eq 0 ]; then
	set -- 1000000
fi
NS=()
for n in "$@"; do
	case $n in
	'' | *[!0-9]*) echo "usage: $0 [N ...]  (N: event counts, at least 16)" >&2; exit 2 ;;
	esac
	if [ "$n" -lt 16 ]; then
		echo "usage: $0 [N ...]  (N: event counts, at least 16)" >&2
		exit 2
	fi
	case " ${NS[*]:-} " in
	*" $n "*) echo "$0: N=$n given twice" >&2; exit 2 ;;
	esac
	NS+=("$n")
done

note() { printf 'compare: %s\n' "$*" >&2; }
die() { note "$*"; exit 1; }
# awk arithmetic: calc EXPR prints the value with 6 decimals.
calc() { awk "BEGIN { printf \"%.6f\", $* }"; }

# A helper binary: $BENCH_BIN first, then ./build/tests; empty if none.
helper() {
	local d
	for d in "$BIN" ./build/tests; do
		if [ -x "$d/$1" ]; then
			printf '%s' "$d/$1"
			return 0
		fi
	done
	return 0
}

# --- packages --------------------------------------------------------------
installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = 'install ok installed' ]
}
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
	for p in sqlite3 libsqlite3-dev postgresql-15; do
		installed "$p" || missing+=("$p")
	done
fi
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
		note "installing ${missing[*]}"
		if ! DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >/dev/null; then
			if ! { DEBIAN_FRONTEND=noninteractive apt-get update >/dev/null &&
				DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >/dev/null; }; then
				note "could not install ${missing[*]}; skipping what needs them"
			fi
		fi
	else
		note "not root: not installing ${missing[*]}; skipping what needs them"
	fi
fi

[ -x "$A" ] || die "no auditlog at $A (build first: tools/setup)"
GEN=$(helper bench_gen_events)
LIMITS=$(helper bench_limits)
SQLITE=$(helper bench_sqlite)
PROOFS=$(helper bench_proofs)
LOADGEN=$(helper bench_serve)
[ -n "$GEN" ] || die "no bench_gen_events in $BIN or ./build/tests"
[ -n "$LIMITS" ] || note "no bench_limits: no limits"
[ -n "$SQLITE" ] || note "no bench_sqlite (built only when libsqlite3-dev is found): no SQLite figures"
[ -n "$PROOFS" ] || note "no bench_proofs: no proof latencies"
[ -n "$LOADGEN" ] || note "no bench_serve: no serve figures"
HAVE_PG=0
if [ -x "$PG_BIN/initdb" ] && id postgres >/dev/null 2>&1 &&
	command -v runuser >/dev/null 2>&1; then
	if [ "$(id -u)" -eq 0 ]; then
		HAVE_PG=1
	else
		note "not root: cannot run PostgreSQL as the postgres user; no PostgreSQL figures"
	fi
else
	note "no PostgreSQL 15 ($PG_BIN) or no postgres user: no PostgreSQL figures"
fi

# --- temporary state and cleanup -------------------------------------------
T=$(mktemp -d)
PGT=
PG_UP=0
spid=
catpid=
ipid=
cleanup() {
	if [ -n "$ipid" ]; then
		kill -TERM "$ipid" 2>/dev/null || true
		wait "$ipid" 2>/dev/null || true
	fi
	if [ -n "$spid" ]; then
		kill -TERM "$spid" 2>/dev/null || true
		wait "$spid" 2>/dev/null || true
	fi
	if [ -n "$catpid" ]; then
		wait "$catpid" 2>/dev/null || true
	fi
	if [ "$PG_UP" = 1 ]; then
		pg_stop
	fi
	[ -z "$PGT" ] || rm -rf "$PGT"
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Results: V[key,N] the number, D[key,N] the text shown.
declare -A V D
put() { # key N value printf-format
	V[$1,$2]=$3
	# shellcheck disable=SC2059 # the format is the caller's, on purpose
	printf -v "D[$1,$2]" "$4" "$3"
}
# Value of key=... in a line of key=value pairs.
kv() {
	local s=" $1"
	s=${s##* "$2"=}
	printf '%s' "${s%% *}"
}
# Value of "key":... in a one-line JSON object of numbers.
jv() {
	local s=$1
	s=${s##*\""$2"\":}
	s=${s%%[,\}]*}
	printf '%s' "$s"
}
bytes_of() { du -sb "$@" | awk '{ s += $1 } END { print s + 0 }'; }

# --- auditlog ingest with the memory poll ----------------------------------
# ingest STORE FILE: sets ING_S, ANON_KB, FILE_KB. The poll reads
# /proc/PID/status every 50 ms; the wait is a read with a timeout on
# ingest's stdout, so the loop ends the moment ingest exits.
ingest_polled() {
	local st status s line rc=0 t0 t1
	ANON_KB=0
	FILE_KB=0
	t0=$EPOCHREALTIME
	exec 5< <(exec "$A" ingest --store "$1" "$2" 2>"$T/ingest.err")
	ipid=$!
	while :; do
		status=
		{ read -r -d '' status </proc/"$ipid"/status; } 2>/dev/null || true
		# Only once the child is auditlog itself (not the shell before exec).
		case $status in
		Name:*auditlog*RssAnon:*)
			s=${status#*RssAnon:}
			s=${s%%kB*}
			s=${s//[[:space:]]/}
			if [ "$s" -gt "$ANON_KB" ]; then ANON_KB=$s; fi
			s=${status#*RssFile:}
			s=${s%%kB*}
			s=${s//[[:space:]]/}
			if [ "$s" -gt "$FILE_KB" ]; then FILE_KB=$s; fi
			;;
		esac
		if read -r -t 0.05 -u 5 line; then
			continue
		else
			st=$?
		fi
		[ "$st" -gt 128 ] || break # not a timeout: end of output, ingest exited
	done
	t1=$EPOCHREALTIME
	exec 5<&-
	wait "$ipid" || rc=$?
	ipid=
	if [ "$rc" -ne 0 ]; then
		cat "$T/ingest.err" >&2
		die "auditlog ingest exited $rc"
	fi
	ING_S=$(calc "$t1 - $t0")
}

# --- auditlog serve --------------------------------------------------------
serve_run() { # N
	local n=$1 s="$T/srv" line ready=0 out t0
	"$A" init --store "$s" >/dev/null 2>&1
	exec 4< <(exec "$A" serve --store "$s" --socket "$T/s.sock" 2>&1)
	spid=$!
	# Its first diagnostic lines say when it listens (no polling).
	while IFS= read -r line <&4; do
		printf '%s\n' "$line" >>"$T/serve.log"
		case $line in
		*msg=listening*) ready=1; break ;;
		esac
	done
	if [ "$ready" != 1 ]; then
		cat "$T/serve.log" >&2
		die "auditlog serve did not start"
	fi
	cat <&4 >>"$T/serve.log" &
	catpid=$!
	exec 4<&-
	out=$("$LOADGEN" "$T/s.sock" "$PRODUCERS" $((n / PRODUCERS)) "$WINDOW" "c$n") ||
		die "bench_serve failed: $out"
	kill -TERM "$spid"
	wait "$spid" || true
	spid=
	wait "$catpid" || true
	catpid=
	put serve_eps "$n" "$(jv "$out" acked_per_s)" '%.0f'
	V[serve_lat,$n]=1
	D[serve_lat,$n]="$(jv "$out" p50_ms) / $(jv "$out" p99_ms)"
	rm -rf "$s" "$s.key" "$T/s.sock"
}

# --- PostgreSQL ------------------------------------------------------------
pgsql() {
	(cd / && runuser -u postgres -- "$PG_BIN/psql" -h "$PGT" -d postgres \
		-v ON_ERROR_STOP=1 -qAtX "$@")
}
pg_start() {
	PGT=$(mktemp -d)
	chown postgres: "$PGT"
	(cd / && runuser -u postgres -- "$PG_BIN/initdb" -D "$PGT/data" -A trust \
		-U postgres -E UTF8 --no-locale -N >"$T/initdb.log" 2>&1) ||
		{ cat "$T/initdb.log" >&2; die "initdb failed"; }
	# A Unix socket only; fsync and synchronous_commit keep their defaults.
	printf "listen_addresses = ''\nunix_socket_directories = '%s'\n" "$PGT" \
		>>"$PGT/data/postgresql.conf"
	PG_UP=1
	(cd / && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGT/data" \
		-l "$PGT/server.log" -w -t 120 start >/dev/null) ||
		{ cat "$PGT/server.log" >&2; die "PostgreSQL did not start"; }
}
pg_stop() {
	(cd / && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGT/data" \
		-m fast -w stop >/dev/null 2>&1) || true
	PG_UP=0
	rm -rf "$PGT"
	PGT=
}
# A fresh cluster for each N, so that no WAL segment recycled from an
# earlier run hides this one's growth.
pg_run() { # N FILE
	local n=$1 f=$2 before after t0 t1 rows
	pg_start
	pgsql -c 'CREATE TABLE ev (j jsonb NOT NULL)' -c 'CHECKPOINT'
	before=$(bytes_of "$PGT/data")
	# CSV with quote and delimiter bytes that never occur, so every line
	# passes unchanged (text format would read backslashes as escapes).
	t0=$EPOCHREALTIME
	pgsql -c "COPY ev(j) FROM STDIN WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')" <"$f"
	t1=$EPOCHREALTIME
	after=$(bytes_of "$PGT/data")
	rows=$(pgsql -c 'SELECT count(*) FROM ev')
	[ "$rows" = "$n" ] || die "PostgreSQL holds $rows rows, not $n"
	put pg_s "$n" "$(calc "$t1 - $t0")" '%.2f'
	put pg_eps "$n" "$(calc "$n / ($t1 - $t0)")" '%.0f'
	put pg_dir_b "$n" "$(calc "($after - $before) / $n")" '%.1f'
	put pg_tab_b "$n" "$(calc "$(pgsql -c "SELECT pg_total_relation_size('ev')") / $n")" '%.1f'
	pg_stop
}

# --- one run ---------------------------------------------------------------
run_one() { # N
	local n=$1 f="$T/events.ndjson" s="$T/store" raw out from to t0 t1
	note "N=$n: generating events"
	"$GEN" "$n" "$SEED" >"$f"
	raw=$(stat -c %s "$f")
	put raw_b "$n" "$(calc "$raw / $n")" '%.1f'

	if [ -n "$LIMITS" ]; then
		note "N=$n: limits"
		out=$("$LIMITS" "$f")
		put hash_eps "$n" "$(kv "$out" hash_per_s)" '%.0f'
		put zstd_eps "$n" "$(kv "$out" zstd_per_s)" '%.0f'
		put zstd_ratio "$n" "$(kv "$out" zstd_ratio)" '%.2f'
	fi

	note "N=$n: auditlog ingest"
	"$A" init --store "$s" >/dev/null 2>&1
	# The report's period starts before the first received time.
	from=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	ingest_polled "$s" "$f"
	to=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
	put ingest_s "$n" "$ING_S" '%.2f'
	put ingest_eps "$n" "$(calc "$n / $ING_S")" '%.0f'
	put anon_mib "$n" "$(calc "$ANON_KB / 1024")" '%.1f'
	put file_mib "$n" "$(calc "$FILE_KB / 1024")" '%.1f'
	put store_b "$n" "$(calc "$(bytes_of "$s") / $n")" '%.1f'

	# The report needs a checkpoint signed after its period.
	"$A" checkpoint --store "$s" >/dev/null
	note "N=$n: verify, report, proofs"
	t0=$EPOCHREALTIME
	"$A" verify --store "$s" >/dev/null
	t1=$EPOCHREALTIME
	put verify_eps "$n" "$(calc "$n / ($t1 - $t0)")" '%.0f'
	t0=$EPOCHREALTIME
	"$A" report --store "$s" --from "$from" --to "$to" --out "$T/report" \
		--no-record >/dev/null 2>"$T/report.err" ||
		{ cat "$T/report.err" >&2; die "auditlog report failed"; }
	t1=$EPOCHREALTIME
	put report_s "$n" "$(calc "$t1 - $t0")" '%.2f'
	rm -rf "$T/report"
	if [ -n "$PROOFS" ]; then
		out=$("$PROOFS" "$s" "$PROOF_N" "$SEED")
		put incl_p50 "$n" "$(kv "$out" inclusion_p50_us)" '%.0f'
		V[incl,$n]=1
		D[incl,$n]="$(kv "$out" inclusion_p50_us) / $(kv "$out" inclusion_p99_us)"
		V[cons,$n]=1
		D[cons,$n]="$(kv "$out" consistency_p50_us) / $(kv "$out" consistency_p99_us)"
	fi
	rm -rf "$s" "$s.key"

	if [ -n "$LOADGEN" ]; then
		note "N=$n: auditlog serve, $PRODUCERS producers"
		serve_run "$n"
	fi

	if [ -n "$SQLITE" ]; then
		note "N=$n: SQLite"
		out=$("$SQLITE" "$f" "$T/sqlite.db")
		[ "$(kv "$out" rows)" = "$n" ] || die "SQLite stored $(kv "$out" rows) rows, not $n"
		put sqlite_s "$n" "$(kv "$out" seconds)" '%.2f'
		put sqlite_eps "$n" "$(kv "$out" rows_per_s)" '%.0f'
		put sqlite_b "$n" "$(calc "$(bytes_of "$T"/sqlite.db*) / $n")" '%.1f'
		rm -f "$T"/sqlite.db*
	fi

	if [ "$HAVE_PG" = 1 ]; then
		note "N=$n: PostgreSQL COPY"
		pg_run "$n" "$f"
	fi
	rm -f "$f"

	# Ratios from this run.
	local k
	for k in sqlite pg hash zstd; do
		if [ -n "${V[${k}_eps,$n]:-}" ]; then
			put "ing_${k}" "$n" "$(calc "${V[ingest_eps,$n]} / ${V[${k}_eps,$n]}")" '%.2f'
		fi
	done
	if [ -n "${V[serve_eps,$n]:-}" ]; then
		put serve_ing "$n" "$(calc "${V[serve_eps,$n]} / ${V[ingest_eps,$n]}")" '%.2f'
	fi
	for k in store sqlite pg_dir pg_tab; do
		if [ -n "${V[${k}_b,$n]:-}" ]; then
			put "${k}_r" "$n" "$(calc "${V[${k}_b,$n]} / ${V[raw_b,$n]}")" '%.2f'
			D[${k}_b,$n]="${D[${k}_b,$n]} (${D[${k}_r,$n]})"
		fi
	done
	if [ "${V[anon_mib,${NS[0]}]}" != 0.000000 ]; then
		put anon_vs_first "$n" "$(calc "$ANON_KB / ${V[anon_mib,${NS[0]}]} / 1024")" '%.2f'
	fi
}

for n in "${NS[@]}"; do
	run_one "$n"
done

# --- the table -------------------------------------------------------------
LAST=${NS[${#NS[@]} - 1]}
W=16
# row LABEL KEY [GOAL_TEXT CHECK_KEY OP VALUE]: one line; "met" is judged
# on the last N.
row() {
	local label=$1 key=$2 goal=${3:-} ck=${4:-} op=${5:-} gv=${6:-} n met=
	printf '%-46s' "$label"
	for n in "${NS[@]}"; do
		printf " %${W}s" "${D[$key,$n]:--}"
	done
	if [ -n "$op" ]; then
		if [ -z "${V[$ck,$LAST]:-}" ]; then
			met=-
		elif awk "BEGIN { exit !(${V[$ck,$LAST]} $op $gv) }"; then
			met=yes
		else
			met=NO
		fi
	fi
	printf "  %-11s %s\n" "$goal" "$met"
}
section() { printf '%s\n' "$1"; }

echo
ver=$("$A" --version 2>/dev/null || true)
printf '%-46s' "${ver:-auditlog}, $(nproc) cores"
for n in "${NS[@]}"; do printf " %${W}s" "N=$n"; done
printf "  %-11s %s\n" goal "met (N=$LAST)"
if [ "${BENCH_IDS:-}" = random ]; then
	echo "(producer ids of random order: BENCH_IDS=random)"
else
	echo "(producer ids: UUIDv7 from each event's time)"
fi
section "throughput, events/s"
row "  auditlog ingest FILE (durable)" ingest_eps
row "    seconds" ingest_s
row "  auditlog serve, $PRODUCERS producers (own events)" serve_eps
row "    answer latency p50 / p99, ms" serve_lat
row "  SQLite WAL sync=FULL, 1000 rows/txn" sqlite_eps
row "  PostgreSQL 15 COPY into jsonb" pg_eps
row "  limit: SHA-256 leaf hash, 1 core" hash_eps
row "  limit: zstd -1 in 64 KiB blocks, 1 core" zstd_eps
section "ratios (same run)"
row "  ingest / SQLite" ing_sqlite '>= 1.5' ing_sqlite '>=' 1.5
row "  ingest / PostgreSQL COPY" ing_pg '>= 7' ing_pg '>=' 7
row "  ingest / leaf-hash limit" ing_hash '>= 0.30' ing_hash '>=' 0.30
row "  ingest / zstd limit" ing_zstd
row "  serve / ingest" serve_ing
section "bytes on disk per event (ratio to raw NDJSON)"
row "  raw NDJSON" raw_b
row "  auditlog store (du -sb)" store_b '<= 0.40' store_r '<=' 0.40
row "  SQLite db + wal" sqlite_b
row "  PostgreSQL data dir growth (with WAL)" pg_dir_b
row "  PostgreSQL table (pg_total_relation_size)" pg_tab_b
row "  limit: zstd -1 of the raw bytes (ratio)" zstd_ratio
section "reading"
row "  auditlog verify, events/s" verify_eps '>= 1.5M' verify_eps '>=' 1500000
row "  auditlog report (whole period), s" report_s
row "  inclusion proof p50 / p99, us" incl '< 200' incl_p50 '<' 200
row "  consistency proof p50 / p99, us" cons
section "memory of ingest (peak of 50 ms polls)"
row "  RssAnon, MiB" anon_mib
row "  RssFile (mapped LMDB and files), MiB" file_mib
row "  RssAnon / RssAnon at N=${NS[0]}" anon_vs_first '<= 1.2' anon_vs_first '<=' 1.2
