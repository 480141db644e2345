#!/usr/bin/env bash
#
# bench/run.sh -- the qoe_agg benchmark (`make bench`).  Not a test: it
# prints figures, ratios and targets, and exits 0 unless something broke.
#
# As root on the development machine (Debian 12, PostgreSQL 15):
#   1. installs what is missing and builds + installs the extension
#      (make && make install, no clean);
#   2. starts its own throwaway cluster (pg_virtualenv) with
#      shared_buffers=2GB, work_mem=4GB (hash aggregates stay in memory),
#      jit=off, max_parallel_workers_per_gather=2;
#   3. builds two deterministic datasets with generate_series and hashint8
#      (no random()):
#        ev       10,000,000 events: 1,000,000 sessions of 10 events (play,
#                 bitrate, heartbeats, buffer_start/buffer_end, pause/resume,
#                 seek_start/seek_end, ended), 100,000 users, 1,000 videos,
#                 rows in time order (sessions interleaved, as they arrive);
#        ev_part  the same events, hash-partitioned by session_id (4);
#        ev_hour  one hour of 100,000 concurrent sessions, 100 events each;
#   3b. runs bench/probe.c (what fresh memory and a second process cost)
#      and bench/merge.c (the core alone: the leader's final step over three
#      partial states of BENCH_SESSIONS / 10 sessions of 100 events);
#   3c. declares the floor aggregate qoe_bench_floor (bench/floor.c, a
#      module of its own: counts rows, takes qoe_agg's arguments; what
#      PostgreSQL charges to feed any aggregate those columns);
#   4. runs every query BENCH_REPS times (default 5) after one warm-up and
#      prints the median, the ratios and the targets, with references of
#      PostgreSQL's own for the same shape of work (the floor aggregate,
#      array_agg per group, the rows grouped by session alone).  Every
#      measured result is consumed by an outer aggregate, so that nothing
#      is optimised away.
#
# Environment: BENCH_REPS (default 5), BENCH_SESSIONS (default 1000000;
# smaller for a quick look), BENCH_KEEP_LOG=1 (keep the raw timings).

set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=test/run_all.sh
source "$ROOT/test/run_all.sh"

REPS=${BENCH_REPS:-5}
NSESS=${BENCH_SESSIONS:-1000000}
PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -P pager=off)

# ---------------------------------------------------------------------
# helpers (inside the cluster)
# ---------------------------------------------------------------------
sql() { "${PSQL[@]}" -At -c "$1"; }

# median of numbers on stdin
median()
{
	sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan";
		else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# time_query NAME SETTINGS QUERY: one warm-up, REPS timed runs in one
# session; stores the median (seconds) in T[NAME]
declare -A T
declare -A R
time_query()
{
	local name=$1 settings=$2 query=$3 reps=${4:-$REPS} out i script
	script="$settings"$'\n'"$query;"$'\n'"\\timing on"
	for ((i = 0; i < reps; i++)); do
		script+=$'\n'"$query;"
	done
	out=$(printf '%s\n' "$script" | "${PSQL[@]}" -At 2>&1) || {
		warn "query $name failed:"; printf '%s\n' "$out" >&2; exit 1; }
	T[$name]=$(printf '%s\n' "$out" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' |
		awk '{ print $1 / 1000 }' | median)
	# the first result line (warm-up run), for cross-checks
	R[$name]=$(printf '%s\n' "$out" | grep -v '^Time:' | head -n 1)
	[ -n "${BENCH_KEEP_LOG:-}" ] && printf '%s\n%s\n' "-- $name" "$out" >>"$ROOT/bench/last.log"
	printf '    %-34s %8.3f s   (%s)\n' "$name" "${T[$name]}" "${R[$name]}"
}

# same_totals A B: two "count|sum|sum" results, sums equal to 1e-6
# (float sums taken in another order may differ in the last digits)
same_totals()
{
	awk -v a="$1" -v b="$2" 'BEGIN {
		split(a, x, "|"); split(b, y, "|");
		d1 = x[2] - y[2]; d2 = x[3] - y[3]; if (d1 < 0) d1 = -d1; if (d2 < 0) d2 = -d2;
		print (x[1] == y[1] && d1 <= 1e-6 * (x[2] + 1) && d2 <= 1e-6 * (x[3] + 1)) ? "same totals" : "DIFFERENT TOTALS" }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }

ROWS=()
# row FIGURE SECONDS RATIO TARGET-OP TARGET-VALUE (TARGET-OP "ref": no
# target, a reference figure of PostgreSQL itself)
row()
{
	local verdict
	verdict=$(awk -v r="$3" -v op="$4" -v t="$5" 'BEGIN {
		if (op == "ref") { print "ref"; exit }
		ok = (op == "<=") ? (r <= t) : (r >= t); print ok ? "PASS" : "MISS" }')
	ROWS+=("$(printf "| %-56s | %8s | %7s | %-7s | %-4s |" "$1" "$(printf %s "$2" | awk '{ if ($1 == "-") print "-"; else printf "%.3f", $1 }')" "$3" "$([ "$4" = ref ] && echo - || echo "$4 $5")" "$verdict")")
}

# The extension's SQL script with MODULE_PATHNAME pointing at a private
# copy of this tree's library (BENCH_LIB): other builds installed into the
# shared PostgreSQL while the benchmark runs cannot change what it measures.
load_extension()
{
	if [ -n "${BENCH_LIB:-}" ]; then
		sed -e '/^\\echo Use/d' -e "s|MODULE_PATHNAME|$BENCH_LIB|g" \
			"$ROOT/qoe_agg--0.1.sql" | "${PSQL[@]}" -c 'SET client_min_messages = warning' -f - >/dev/null
	else
		sql "CREATE EXTENSION qoe_agg" >/dev/null
	fi
}

# ---------------------------------------------------------------------
# datasets
# ---------------------------------------------------------------------
build_datasets()
{
	say "building ev: $NSESS sessions x 10 events"
	load_extension
	"${PSQL[@]}" <<SQL
SET TIME ZONE 'UTC';
-- Per session s: variant v picks the events of slots 3-8; slot i happens
-- at i * 30 s + up to 20 s of jitter after the session's start, so a
-- session's events are in order and never tie.  Heartbeats and bitrate
-- changes only happen while playing (so a 3-line window-function query
-- computes the same watch and buffer time, see below).
CREATE UNLOGGED TABLE ev AS
WITH s AS (
  SELECT s,
         hashint8(s)::bigint + 2147483648 AS h1,
         hashint8(s + 1000000007)::bigint + 2147483648 AS h2,
         hashint8(s + 2000000011)::bigint + 2147483648 AS h3
  FROM generate_series(0, $NSESS - 1) s),
e AS (
  SELECT s.*, i, (h1 # h3) % 6 AS v,
         timestamptz '2024-01-01 00:00:00+00'
           + (h2 % (30 * 86400)) * interval '1 s' AS t0,
         (i::bigint * 30000000 + (hashint8(s::bigint * 10 + i)::bigint + 2147483648) % 20000000) AS off_us
  FROM s, generate_series(0, 9) i)
SELECT 'sess-' || lpad(s::text, 7, '0') AS session_id,
       (h1 % 100000)::int AS user_id,
       (h3 % 1000)::int AS video_id,
       t0 + off_us * interval '1 microsecond' AS ts,
       ev AS event,
       CASE WHEN ev = 'bitrate' THEN NULL
            ELSE off_us / 1e6::float8 + CASE WHEN i >= 8 AND v IN (0, 3, 4) THEN 100 ELSE 0 END
       END AS "position",
       CASE WHEN ev = 'bitrate' THEN ((1 + (h1 + i) % 5) * 1000000)::float8 END AS bitrate
FROM e,
LATERAL (SELECT CASE i
          WHEN 0 THEN 'play'
          WHEN 1 THEN 'bitrate'
          WHEN 2 THEN 'heartbeat'
          WHEN 3 THEN CASE WHEN v < 3 THEN 'buffer_start' ELSE 'heartbeat' END
          WHEN 4 THEN CASE WHEN v < 3 THEN 'buffer_end' ELSE 'bitrate' END
          WHEN 5 THEN CASE WHEN v % 2 = 0 THEN 'pause' ELSE 'heartbeat' END
          WHEN 6 THEN CASE WHEN v % 2 = 0 THEN 'resume' ELSE 'heartbeat' END
          WHEN 7 THEN CASE WHEN v IN (0, 3, 4) THEN 'seek_start' ELSE 'heartbeat' END
          WHEN 8 THEN CASE WHEN v IN (0, 3, 4) THEN 'seek_end' ELSE 'heartbeat' END
          ELSE 'ended' END AS ev) n
ORDER BY ts;

-- One hour, 100,000 concurrent sessions of 100 events: play, bitrate
-- changes, heartbeats every ~36 s, a stall now and then, ended.
CREATE UNLOGGED TABLE ev_hour AS
WITH s AS (
  SELECT s, hashint8(s)::bigint + 2147483648 AS h1
  FROM generate_series(0, $NSESS / 10 - 1) s),
e AS (
  SELECT s.*, i,
         timestamptz '2024-02-01 00:00:00+00' + (h1 % 60) * interval '1 s'
           + (i::bigint * 36000000 + (hashint8(s::bigint * 100 + i)::bigint + 2147483648) % 30000000)
             * interval '1 microsecond' AS ts,
         (i * 36 + (h1 % 7))::float8 AS pos
  FROM s, generate_series(0, 99) i)
SELECT 'sess-' || lpad(s::text, 7, '0') AS session_id, ts,
       CASE WHEN i = 0 THEN 'play'
            WHEN i = 99 THEN 'ended'
            WHEN i % 25 = 1 THEN 'bitrate'
            WHEN (h1 + i) % 40 = 7 THEN 'buffer_start'
            WHEN (h1 + i) % 40 = 8 THEN 'buffer_end'
            ELSE 'heartbeat' END AS event,
       pos AS "position",
       ((1 + (h1 + i) % 5) * 1000000)::float8 AS value
FROM e
ORDER BY ts;

-- The same events in a table hash-partitioned by session_id, the layout
-- on which per-session work splits between processes without any combining
-- (enable_partitionwise_aggregate): each partition holds whole sessions.
CREATE TABLE ev_part (LIKE ev) PARTITION BY HASH (session_id);
SELECT format('CREATE UNLOGGED TABLE ev_part_%s PARTITION OF ev_part FOR VALUES WITH (MODULUS 4, REMAINDER %s)', r, r)
FROM generate_series(0, 3) r \gexec
INSERT INTO ev_part SELECT * FROM ev;

VACUUM ANALYZE ev;
VACUUM ANALYZE ev_part;
VACUUM ANALYZE ev_hour;
SQL
	say "dataset: $(sql "SELECT format('ev: %s events, %s sessions, %s users, %s videos, %s (table), %s (with indexes/toast); ev_hour: %s events, %s',
		(SELECT count(*) FROM ev), (SELECT count(DISTINCT session_id) FROM ev),
		(SELECT count(DISTINCT user_id) FROM ev), (SELECT count(DISTINCT video_id) FROM ev),
		pg_size_pretty(pg_relation_size('ev')), pg_size_pretty(pg_total_relation_size('ev')),
		(SELECT count(*) FROM ev_hour), pg_size_pretty(pg_relation_size('ev_hour')))")"
	# warm the cache
	sql "SELECT count(*) FROM ev; SELECT count(*) FROM ev_part; SELECT count(*) FROM ev_hour" >/dev/null
}

# the floor aggregate (bench/floor.c, built by main into BENCH_FLOOR):
# one transition function for both argument lists qoe_agg's aggregates
# take here, a by-value int8 state and a combine function, so that it runs
# in the same plans (partial aggregation, 2 workers)
declare_floor()
{
	[ -r "${BENCH_FLOOR:-}" ] || { warn "the floor aggregate module was not built"; exit 1; }
	"${PSQL[@]}" <<SQL
CREATE FUNCTION qoe_bench_floor_sfunc(int8, timestamptz, text, float8, float8)
  RETURNS int8 AS '$BENCH_FLOOR' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION qoe_bench_floor_sfunc(int8, timestamptz, text, float8, float8, text)
  RETURNS int8 AS '$BENCH_FLOOR' LANGUAGE C PARALLEL SAFE;
CREATE AGGREGATE qoe_bench_floor(timestamptz, text, float8, float8)
  (sfunc = qoe_bench_floor_sfunc, stype = int8, initcond = '0', combinefunc = int8pl, parallel = safe);
CREATE AGGREGATE qoe_bench_floor(timestamptz, text, float8, float8, text)
  (sfunc = qoe_bench_floor_sfunc, stype = int8, initcond = '0', combinefunc = int8pl, parallel = safe);
SQL
}

# peak anonymous memory (RssAnon, kB) of one backend while it runs a script
peak_rss_kb()
{
	local script=$1 pidfile peakfile sampler
	pidfile=$(mktemp) peakfile=$(mktemp)
	{
		echo "\\o $pidfile"
		echo "SELECT pg_backend_pid();"
		echo "\\o"
		printf '%s\n' "$script"
	} | "${PSQL[@]}" -At >/dev/null 2>&1 &
	local client=$!
	local pid="" peak=0 v hwm=0
	while kill -0 "$client" 2>/dev/null; do
		[ -z "$pid" ] && [ -s "$pidfile" ] && pid=$(tr -dc 0-9 <"$pidfile")
		if [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; then
			v=$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
			[ -n "$v" ] && [ "$v" -gt "$peak" ] && peak=$v
		fi
		sleep 0.02
	done
	wait "$client" || { warn "memory measurement failed"; }
	rm -f "$pidfile" "$peakfile"
	echo "$peak"
}

# ---------------------------------------------------------------------
# the benchmark (inside the cluster)
# ---------------------------------------------------------------------
inner_bench()
{
	local par="SET max_parallel_workers_per_gather = 2;"
	local ser="SET max_parallel_workers_per_gather = 0;"
	local args="ts, event, \"position\", bitrate"

	build_datasets
	declare_floor
	# what the machine charges for fresh memory and for a second process
	# (bench/probe.c, built by main; run here, before the queries)
	if [ -x "${BENCH_PROBE:-}" ]; then
		PROBE=$("$BENCH_PROBE") || PROBE="probe failed"
		say "machine probe: $PROBE"
	fi
	if [ -x "${BENCH_MERGE:-}" ]; then
		CORE_MERGE=$("$BENCH_MERGE" "$((NSESS / 10))" 100 "$REPS" &&
			"$BENCH_MERGE" "$((NSESS / 10))" 100 "$REPS" keyless) || CORE_MERGE="core merge failed"
		say "$CORE_MERGE"
	fi

	say "1. floor: count(*) per group"
	time_query count_session "$par" "SELECT count(*), sum(c) FROM (SELECT session_id, count(*) c FROM ev GROUP BY 1) q"
	time_query count_user "$par" "SELECT count(*), sum(c) FROM (SELECT user_id, count(*) c FROM ev GROUP BY 1) q"
	time_query count_video "$par" "SELECT count(*), sum(c) FROM (SELECT video_id, count(*) c FROM ev GROUP BY 1) q"

	say "1b. references: PostgreSQL's own array_agg, and the floor aggregate (bench/floor.c)"
	local g
	for g in session user video; do
		time_query "array_agg_$g" "$par" "SELECT count(*), sum(c) FROM (SELECT ${g}_id, cardinality(array_agg(ts)) c FROM ev GROUP BY 1) q"
		time_query "floor_$g" "$par" "SELECT count(*), sum(c) FROM (SELECT ${g}_id, qoe_bench_floor($args) c FROM ev GROUP BY 1) q"
	done

	say "2. qoe_stats($args) per group"
	time_query stats_session "$par" "SELECT count(*), sum((s).play_time), sum((s).buffer_time) FROM (SELECT session_id, qoe_stats($args) s FROM ev GROUP BY 1) q"
	time_query stats_user "$par" "SELECT count(*), sum((s).play_time), sum((s).buffer_time) FROM (SELECT user_id, qoe_stats($args) s FROM ev GROUP BY 1) q"
	time_query stats_video "$par" "SELECT count(*), sum((s).play_time), sum((s).buffer_time) FROM (SELECT video_id, qoe_stats($args) s FROM ev GROUP BY 1) q"
	time_query stats_user_keyed "$par" "SELECT count(*), sum((s).play_time), sum((s).buffer_time) FROM (SELECT user_id, qoe_stats($args, session_id) s FROM ev GROUP BY 1) q"
	time_query stats_video_keyed "$par" "SELECT count(*), sum((s).play_time), sum((s).buffer_time) FROM (SELECT video_id, qoe_stats($args, session_id) s FROM ev GROUP BY 1) q"

	say "3. watch_time + buffer_time, one-step aggregates, per session"
	time_query onestep_session "$par" "SELECT count(*), sum(w), sum(b) FROM (SELECT session_id, watch_time($args) w, buffer_time($args) b FROM ev GROUP BY 1) q"

	say "4. the same in plain SQL with window functions"
	time_query puresql_session "$par" "SELECT count(*), sum(w), sum(b) FROM (
  SELECT session_id, sum(dt) FILTER (WHERE st = 1) w, sum(dt) FILTER (WHERE st = 2) b
  FROM (SELECT session_id,
               CASE event WHEN 'buffer_start' THEN 2
                          WHEN 'pause' THEN 0 WHEN 'seek_start' THEN 0 WHEN 'ended' THEN 0
                          ELSE 1 END AS st,
               extract(epoch FROM lead(ts) OVER (PARTITION BY session_id ORDER BY ts) - ts) AS dt
        FROM ev) x
  GROUP BY session_id) y" 3
	say "    qoe_agg: ${R[onestep_session]}   plain SQL: ${R[puresql_session]}   -> $(same_totals "${R[onestep_session]}" "${R[puresql_session]}")"

	# per-session qoe_stats and count(*) over table $1; 2 workers forced
	local par2w="$par SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;"
	session_stats() { echo "SELECT count(*), sum((s).play_time), sum((s).buffer_time) FROM (SELECT session_id, qoe_stats($args) s FROM $1 GROUP BY 1) q"; }
	session_count() { echo "SELECT count(*), sum(c) FROM (SELECT session_id, count(*) c FROM $1 GROUP BY 1) q"; }

	say "5. per session, serial and with 2 workers"
	time_query stats_session_serial "$ser" "$(session_stats ev)"
	time_query stats_session_2w "$par2w" "$(session_stats ev)"
	time_query count_session_serial "$ser" "$(session_count ev)"
	time_query count_session_2w "$par2w" "$(session_count ev)"

	say "5b. per session on ev_part (hash-partitioned by session_id, partitionwise aggregation), serial and with 2 workers"
	local pw="SET enable_partitionwise_aggregate = on;"
	time_query part_stats_serial "$ser $pw" "$(session_stats ev_part)"
	time_query part_stats_2w "$par2w $pw" "$(session_stats ev_part)"
	time_query part_count_serial "$ser $pw" "$(session_count ev_part)"
	time_query part_count_2w "$par2w $pw" "$(session_count ev_part)"
	say "    ev: ${R[stats_session]}   ev_part: ${R[part_stats_2w]}   -> $(same_totals "${R[stats_session]}" "${R[part_stats_2w]}")"

	say "6. one group of all events"
	time_query count_all "$par" "SELECT count(*) FROM ev"
	time_query floor_all "$par" "SELECT qoe_bench_floor($args, session_id) FROM ev"
	time_query stats_all "$par" "SELECT (s).sessions, (s).play_time FROM (SELECT qoe_stats($args, session_id) s FROM ev) q"

	say "7. windows: one hour, 100,000 concurrent sessions"
	time_query count_hour "$par" "SELECT count(*) FROM ev_hour"
	time_query floor_hour "$par" "SELECT qoe_bench_floor(ts, event, \"position\", value, session_id) FROM ev_hour"
	time_query count_hour_session "$par" "SELECT count(*), sum(c) FROM (SELECT session_id, count(*) c FROM ev_hour GROUP BY 1) q"
	# the issue's own form (a LATERAL call on the subquery's timeline), and
	# the same with the timeline as a scalar subquery (an InitPlan, whose
	# result PostgreSQL copies into a tuple: one more pass over the value)
	local wq="SELECT count(*), sum(w.play_time), max(w.concurrent_peak) FROM (SELECT qoe_timeline(ts, event, \"position\", value, session_id) t FROM ev_hour) s, qoe_windows(s.t, '1 minute') w"
	local wq_init="SELECT count(*), sum(play_time), max(concurrent_peak) FROM qoe_windows((SELECT qoe_timeline(ts, event, \"position\", value, session_id) FROM ev_hour), '1 minute')"
	time_query windows_hour "$par" "$wq"
	time_query windows_hour_initplan "$par" "$wq_init"
	[ "${R[windows_hour]}" = "${R[windows_hour_initplan]}" ] || warn "the two windows forms differ: ${R[windows_hour]} vs ${R[windows_hour_initplan]}"
	local mem_windows mem_windows_par
	mem_windows=$(peak_rss_kb "$ser $wq;")
	mem_windows_par=$(peak_rss_kb "$par $wq;")

	say "transition state per event (serial hash aggregation, EXPLAIN ANALYZE memory)"
	local m_count m_stats explain="$ser SET enable_sort = off; EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF)"
	m_count=$("${PSQL[@]}" -At -c "$explain SELECT session_id, count(*) FROM ev GROUP BY 1" |
		sed -n 's/.*Memory Usage: \([0-9]*\)kB.*/\1/p' | head -n 1)
	m_stats=$("${PSQL[@]}" -At -c "$explain SELECT session_id, qoe_stats($args) FROM ev GROUP BY 1" |
		sed -n 's/.*Memory Usage: \([0-9]*\)kB.*/\1/p' | head -n 1)
	local nev per_event
	nev=$(sql "SELECT count(*) FROM ev")
	per_event=$(awk -v s="$m_stats" -v c="$m_count" -v n="$nev" 'BEGIN { printf "%.1f", (s - c) * 1024 / n }')
	say "    HashAggregate memory: qoe_stats ${m_stats} kB, count(*) ${m_count} kB -> ${per_event} bytes per event"

	say "stored qoe_timeline of all events (compact binary form), bytes per event"
	local tl_ev tl_hour
	tl_ev=$(sql "SELECT round(octet_length(qoe_timeline_send(qoe_timeline($args, session_id)))::numeric / count(*), 1) FROM ev")
	tl_hour=$(sql "SELECT round(octet_length(qoe_timeline_send(qoe_timeline(ts, event, \"position\", value, session_id)))::numeric / count(*), 1) FROM ev_hour")
	say "    ev: ${tl_ev}, ev_hour: ${tl_hour} (the first binary form: 32)"

	# ----------------------------------------------------------------
	local machine
	machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(awk '/MemTotal/ { printf "%.0f GB RAM", $2 / 1048576 }' /proc/meminfo), $(sql 'SHOW server_version' | cut -d' ' -f1) (PostgreSQL), $(uname -r)"
	row "qoe_stats / count(*), per session" "${T[stats_session]}" "$(ratio "${T[stats_session]}" "${T[count_session]}")" "<=" 1.5
	row "qoe_stats / count(*), per user" "${T[stats_user]}" "$(ratio "${T[stats_user]}" "${T[count_user]}")" "<=" 1.5
	row "qoe_stats / count(*), per video" "${T[stats_video]}" "$(ratio "${T[stats_video]}" "${T[count_video]}")" "<=" 2.0
	row "qoe_stats(..., session_id) / count(*), per user" "${T[stats_user_keyed]}" "$(ratio "${T[stats_user_keyed]}" "${T[count_user]}")" "<=" 1.5
	row "qoe_stats(..., session_id) / count(*), per video" "${T[stats_video_keyed]}" "$(ratio "${T[stats_video_keyed]}" "${T[count_video]}")" "<=" 2.0
	row "plain SQL watch+buffer / qoe_stats, per session" "${T[puresql_session]}" "$(ratio "${T[puresql_session]}" "${T[stats_session]}")" ">=" 2.5
	row "plain SQL / watch_time+buffer_time, per session" "${T[puresql_session]}" "$(ratio "${T[puresql_session]}" "${T[onestep_session]}")" ">=" 2.5
	row "serial / 2 workers, qoe_stats per session" "${T[stats_session_serial]}" "$(ratio "${T[stats_session_serial]}" "${T[stats_session_2w]}")" ">=" 1.6
	row "serial / 2 workers, per session, partitioned ev_part" "${T[part_stats_serial]}" "$(ratio "${T[part_stats_serial]}" "${T[part_stats_2w]}")" ">=" 1.6
	row "one 10M-event group / count(*)" "${T[stats_all]}" "$(ratio "${T[stats_all]}" "${T[count_all]}")" "<=" 3
	row "windows: timeline + qoe_windows / count(*)" "${T[windows_hour]}" "$(ratio "${T[windows_hour]}" "${T[count_hour]}")" "<=" 2
	row "windows, scalar-subquery form / count(*)" "${T[windows_hour_initplan]}" "$(ratio "${T[windows_hour_initplan]}" "${T[count_hour]}")" "ref" ""
	row "transition state, bytes per event" "-" "$per_event" "<=" 32
	row "stored timeline, bytes per event, ev" "-" "$tl_ev" "ref" ""
	row "stored timeline, bytes per event, ev_hour" "-" "$tl_hour" "ref" ""
	for g in session user video; do
		row "reference: array_agg(ts) / count(*), per $g" "${T[array_agg_$g]}" "$(ratio "${T[array_agg_$g]}" "${T[count_$g]}")" "ref" ""
	done
	for g in session user video; do
		row "reference: floor aggregate / count(*), per $g" "${T[floor_$g]}" "$(ratio "${T[floor_$g]}" "${T[count_$g]}")" "ref" ""
	done
	row "reference: floor aggregate / count(*), all rows of ev" "${T[floor_all]}" "$(ratio "${T[floor_all]}" "${T[count_all]}")" "ref" ""
	row "reference: rows grouped by session / count(*), ev" "${T[count_session]}" "$(ratio "${T[count_session]}" "${T[count_all]}")" "ref" ""
	row "reference: floor aggregate / count(*), ev_hour" "${T[floor_hour]}" "$(ratio "${T[floor_hour]}" "${T[count_hour]}")" "ref" ""
	row "reference: rows grouped by session / count(*), ev_hour" "${T[count_hour_session]}" "$(ratio "${T[count_hour_session]}" "${T[count_hour]}")" "ref" ""
	row "reference: count(*) serial / 2 workers, per session" "${T[count_session_2w]}" "$(ratio "${T[count_session_serial]}" "${T[count_session_2w]}")" "ref" ""
	row "reference: count(*) serial / 2 workers, ev_part" "${T[part_count_2w]}" "$(ratio "${T[part_count_serial]}" "${T[part_count_2w]}")" "ref" ""
	row "windows: peak backend memory (serial), MB" "-" "$(awk -v k="$mem_windows" 'BEGIN { printf "%.0f", k / 1024 }')" "<=" 1536
	row "windows: peak leader memory (2 workers), MB" "-" "$(awk -v k="$mem_windows_par" 'BEGIN { printf "%.0f", k / 1024 }')" "<=" 1536

	echo
	echo "machine: $machine"
	echo "settings: shared_buffers=2GB work_mem=4GB jit=off max_parallel_workers_per_gather=2 (0 for 'serial'), median of $REPS runs"
	echo "machine probe: ${PROBE:-not run}"
	echo "${CORE_MERGE:-core merge: not run}"
	echo "floors: count(*) per session ${T[count_session]} s (serial ${T[count_session_serial]} s), per user ${T[count_user]} s, per video ${T[count_video]} s, all ${T[count_all]} s, ev_hour ${T[count_hour]} s"
	echo
	printf '| %-56s | %8s | %7s | %-7s | %-4s |\n' figure "median s" ratio target ""
	printf '|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..58})" "----------" "---------" "---------" "------"
	printf '%s\n' "${ROWS[@]}"
}

# ---------------------------------------------------------------------
# main
# ---------------------------------------------------------------------
main()
{
	unset PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD PGSERVICE PGSERVICEFILE \
		PGOPTIONS PGSYSCONFDIR PGPASSFILE
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
	ensure_packages || exit 1
	say "building (make); the benchmark loads a private copy of qoe_agg.so"
	make -C "$ROOT" -s -j"$(nproc)" PG_CONFIG="$PG_CONFIG" >/dev/null || exit 1
	BENCH_DIR=$(mktemp -d -t qoe_bench.XXXXXX) || exit 1
	chmod 755 "$BENCH_DIR"
	cp "$ROOT/qoe_agg.so" "$BENCH_DIR/qoe_agg.so" && chmod 755 "$BENCH_DIR/qoe_agg.so" || exit 1
	export BENCH_LIB=$BENCH_DIR/qoe_agg.so
	if "${CC:-gcc}" -O2 -Wall -Wextra -Werror -o "$BENCH_DIR/probe" "$ROOT/bench/probe.c"; then
		export BENCH_PROBE=$BENCH_DIR/probe
	fi
	# the floor aggregate's module (bench/floor.c), against the server's headers
	if "${CC:-gcc}" -O2 -fPIC -shared -Wall -Wextra -Wno-unused-parameter -Werror \
		-I"$("$PG_CONFIG" --includedir-server)" -o "$BENCH_DIR/floor.so" "$ROOT/bench/floor.c"; then
		chmod 755 "$BENCH_DIR/floor.so"
		export BENCH_FLOOR=$BENCH_DIR/floor.so
	fi
	# the core's benchmark of the leader's final step (bench/merge.c)
	if make -C "$ROOT" -s build/bench/merge >/dev/null; then
		export BENCH_MERGE=$ROOT/build/bench/merge
	fi
	trap 'stop_cluster_on_signal; rm -rf "$BENCH_DIR"' EXIT
	say "starting a throwaway PostgreSQL $PGVER cluster for the benchmark"
	setsid pg_virtualenv -t -v "$PGVER" -i '--encoding=UTF8 --locale=C.UTF-8' \
		-o shared_buffers=2GB -o work_mem=4GB -o maintenance_work_mem=1GB \
		-o jit=off -o max_parallel_workers_per_gather=2 -o max_worker_processes=8 \
		-o max_wal_size=20GB -o checkpoint_timeout=1h \
		bash "$ROOT/bench/run.sh" --inner </dev/null &
	VENV_PID=$!
	wait "$VENV_PID"
	local rc=$?
	VENV_PID=
	exit $rc
}

# bench/run.sh --inner runs inside the cluster; sourcing the file only
# defines the functions (for running parts against a cluster of your own)
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	if [ "${1:-}" = "--inner" ]; then
		set -e
		inner_bench
	else
		main
	fi
fi
