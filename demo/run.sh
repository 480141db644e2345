#!/usr/bin/env bash
#
# demo/run.sh -- a first look at qoe_agg (`make demo`).  Temporary: it will
# be replaced by a fuller demo.
#
# Same setup as the test runner (test/run_all.sh, whose functions it
# reuses): installs the Debian packages, builds and installs the extension,
# starts a throwaway PostgreSQL 15 cluster, runs a query over a few
# hand-written player events, and drops the cluster again.

set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=test/run_all.sh
source "$ROOT/test/run_all.sh"
set -e

if [ "${1:-}" = "--inner" ]; then
	timeout -k 5 120 "$PGBIN/psql" -X -v ON_ERROR_STOP=1 -P pager=off <<'SQL'
CREATE EXTENSION qoe_agg;
CREATE TABLE events (ts timestamptz, event text, "position" float8, value float8, session text);
-- viewer 1 starts, stalls once, finishes; viewer 2 gives up during startup
INSERT INTO events VALUES
  ('2024-01-01 20:00:00+00', 'request',      NULL, NULL,    'v1'),
  ('2024-01-01 20:00:02+00', 'playing',      0,    NULL,    'v1'),
  ('2024-01-01 20:00:02+00', 'bitrate',      NULL, 3000000, 'v1'),
  ('2024-01-01 20:01:00+00', 'buffer_start', 58,   NULL,    'v1'),
  ('2024-01-01 20:01:04+00', 'buffer_end',   58,   NULL,    'v1'),
  ('2024-01-01 20:05:00+00', 'pause',        294,  NULL,    'v1'),
  ('2024-01-01 20:06:00+00', 'play',         294,  NULL,    'v1'),
  ('2024-01-01 20:10:06+00', 'ended',        540,  NULL,    'v1'),
  ('2024-01-01 20:03:00+00', 'request',      NULL, NULL,    'v2'),
  ('2024-01-01 20:03:09+00', 'exit',         NULL, NULL,    'v2');

\echo '-- per viewer'
SELECT session, watch_time(ts, event, "position", value, session) AS watch_s,
       buffer_time(ts, event, "position", value, session) AS buffer_s,
       startup_time(ts, event, "position", value, session) AS startup_s,
       rebuffer_ratio(ts, event, "position", value, session) AS rebuffer_ratio
  FROM events GROUP BY session ORDER BY session;

\echo '-- all viewers'
SELECT s.sessions, s.play_time, s.paused_time, s.rebuffer_count, s.startup_time,
       s.exits_before_start, s.completions, s.avg_bitrate
  FROM (SELECT (qoe_stats(qoe_timeline(ts, event, "position", value, session))).*
          FROM events) s;
SQL
	exit
fi

ensure_packages
say "building and installing"
build_install
say "starting a throwaway PostgreSQL $PGVER cluster"
trap stop_cluster_on_signal EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
run_in_cluster bash "$ROOT/demo/run.sh" --inner
