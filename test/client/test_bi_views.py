#!/usr/bin/python3
"""Read the BI views of qoe_create_views() through a client driver, the way a
BI tool (Metabase, Superset, Grafana, Tableau, Power BI) does: list them from
information_schema, read their column names and types, fetch rows through a
server-side cursor.

Uses Debian's python3-psycopg2 and the libpq environment (PGHOST, PGPORT,
PGUSER, PGPASSWORD, PGDATABASE) of the database to test; prints TAP, so that
test/run_all.sh runs it under prove.  It creates and drops the schemas
bi_client and "qoe client" in that database.
"""

import datetime
import re
import sys
import traceback

import psycopg2

N = 0
FAILED = 0


def ok(cond, name, diag=None):
    global N, FAILED
    N += 1
    if cond:
        print("ok %d - %s" % (N, name))
    else:
        FAILED += 1
        print("not ok %d - %s" % (N, name))
        if diag is not None:
            for line in str(diag).splitlines():
                print("#   " + line)
    sys.stdout.flush()


def is_(got, want, name):
    ok(got == want, name, "got:  %r\nwant: %r" % (got, want))


SOURCE = "bi_client.events"
TARGET = "qoe client"   # a space: the views' schema must be quoted by the tool

# A small events table: s1 u1 v1 (100 s video) request@0, playing@2[0],
# bitrate@2 3 Mbps, ended@102[100]: startup 2, watch 100, completed.
# s2 u2 v1: play@0[0], pause@40[40] (3 rows with a heartbeat): watch 40,
# 40 % watched, not completed.  Both on 2024-03-01, so stale_data fires.
EVENTS = [
    ("2024-03-01 10:00:00+00", "request", None, None, "s1", 1, "v1", "tv"),
    ("2024-03-01 10:00:02+00", "playing", 0, None, "s1", 1, "v1", "tv"),
    ("2024-03-01 10:00:02+00", "bitrate", None, 3000000, "s1", 1, "v1", "tv"),
    ("2024-03-01 10:01:42+00", "ended", 100, None, "s1", 1, "v1", "tv"),
    ("2024-03-01 11:00:00+00", "play", 0, None, "s2", 2, "v1", "mobile"),
    ("2024-03-01 11:00:20+00", "heartbeat", 20, None, "s2", 2, "v1", "mobile"),
    ("2024-03-01 11:00:40+00", "pause", 40, None, "s2", 2, "v1", "mobile"),
]

F8, I8, TXT, BOOL, DATE, TSTZ, INT = ("double precision", "bigint", "text", "boolean",
                                      "date", "timestamp with time zone", "integer")

# The documented columns of every view, in order, with their SQL types.
SESSION_METRICS = [
    ("session_id", TXT), ("user_id", INT), ("video_id", TXT), ("device_type", TXT),
    ("day", DATE), ("first_ts", TSTZ), ("last_ts", TSTZ), ("session_duration_s", F8),
    ("video_duration_s", F8), ("event_count", I8), ("sessions", I8),
    ("play_time_s", F8), ("watch_time_s", F8), ("view_time_s", F8),
    ("starting_time_s", F8), ("paused_time_s", F8), ("buffer_time_s", F8),
    ("seek_time_s", F8), ("ad_time_s", F8), ("rebuffer_time_s", F8),
    ("rebuffer_count", I8), ("buffer_count", I8), ("startup_time_s", F8),
    ("pause_count", I8), ("seek_count", I8), ("seek_forward", I8), ("seek_backward", I8),
    ("ad_count", I8), ("replays", I8), ("completions", I8), ("errors", I8),
    ("exits_before_start", I8), ("start_failures", I8), ("playback_failures", I8),
    ("max_position_s", F8), ("content_watched_s", F8), ("avg_bitrate_bps", F8),
    ("min_bitrate_bps", F8), ("max_bitrate_bps", F8), ("upshifts", I8), ("downshifts", I8),
    ("unmatched_buffer_ends", I8), ("duplicate_events", I8), ("unknown_events", I8),
    ("invalid_events", I8), ("rebuffer_ratio", F8), ("rebuffer_percentage", F8),
    ("rebuffer_frequency_per_min", F8), ("percent_watched", F8), ("completed", BOOL),
    ("negative_position_events", I8),
]
USER_METRICS = [
    ("user_id", INT), ("sessions", I8), ("total_watch_time_s", F8), ("total_watch_hours", F8),
    ("videos_watched", I8), ("videos_completed", I8), ("completed_sessions", I8),
    ("forward_skips", I8), ("first_seen", TSTZ), ("last_seen", TSTZ),
    ("engagement_score", F8), ("engagement_tier", TXT),
]
VIDEO_METRICS = [
    ("video_id", TXT), ("video_duration_s", F8), ("sessions", I8), ("unique_viewers", I8),
    ("total_watch_time_s", F8), ("completed_sessions", I8), ("completion_rate", F8),
    ("avg_watch_time_s", F8), ("avg_percent_watched", F8), ("forward_skips", I8),
    ("engagement_score", F8),
]
DAILY_METRICS = [
    ("day", DATE), ("active_users", I8), ("sessions", I8), ("watch_time_s", F8),
    ("watch_hours", F8), ("view_time_s", F8), ("rebuffer_time_s", F8), ("rebuffer_ratio", F8),
    ("avg_startup_time_s", F8), ("completed_sessions", I8), ("completion_rate", F8),
    ("start_failures", I8), ("start_failure_rate", F8), ("playback_failures", I8),
    ("playback_failure_rate", F8), ("exits_before_start", I8), ("exit_before_start_rate", F8),
]
DATA_QUALITY = [
    ("check_name", TXT), ("failing_count", I8), ("total", I8), ("rate", F8),
    ("unit", TXT), ("description", TXT),
]
ALERTS = [
    ("alert_name", TXT), ("severity", TXT), ("detail", TXT), ("value", F8), ("threshold", F8),
]
VIEWS = {
    "session_metrics": SESSION_METRICS, "user_metrics": USER_METRICS,
    "video_metrics": VIDEO_METRICS, "daily_metrics": DAILY_METRICS,
    "data_quality": DATA_QUALITY, "alerts": ALERTS,
}


def setup(conn):
    with conn.cursor() as cur:
        cur.execute("SET client_min_messages = warning")
        cur.execute("CREATE EXTENSION IF NOT EXISTS qoe_agg")
        cur.execute('DROP SCHEMA IF EXISTS bi_client, "qoe client" CASCADE')
        cur.execute("CREATE SCHEMA bi_client")
        cur.execute("CREATE TABLE bi_client.events (ts timestamptz, event text, position float8,"
                    " bitrate float8, session_id text, user_id int, video_id text, device_type text)")
        cur.executemany("INSERT INTO bi_client.events VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", EVENTS)
        cur.execute("CREATE TABLE bi_client.videos (video_id text, duration_s float8)")
        cur.execute("INSERT INTO bi_client.videos VALUES ('v1', 100)")
        cur.execute("SELECT * FROM qoe_create_views(%s::regclass, %s, %s::regclass)",
                    (SOURCE, TARGET, "bi_client.videos"))
        return [r[0] for r in cur.fetchall()]


def fetch_server_side(conn, sql, name):
    """Rows through a named (server-side) cursor, in small batches."""
    with conn.cursor(name=name) as cur:
        cur.itersize = 2
        cur.execute(sql)
        rows = [r for r in cur]
        desc = cur.description
    conn.commit()
    return desc, rows


def main():
    conn = psycopg2.connect("")
    conn.autocommit = True
    made = setup(conn)
    is_(len(made), 6, "qoe_create_views returns the six views it made")
    conn.autocommit = False

    with conn.cursor() as cur:
        # 1. list the views, as a BI tool's schema browser does
        cur.execute("SELECT table_name FROM information_schema.views WHERE table_schema = %s"
                    " ORDER BY table_name", (TARGET,))
        is_([r[0] for r in cur.fetchall()], sorted(VIEWS), "information_schema.views lists the six views")
        cur.execute("SELECT table_name, table_type FROM information_schema.tables"
                    " WHERE table_schema = %s ORDER BY 1", (TARGET,))
        ok(all(t == "VIEW" for _, t in cur.fetchall()), "information_schema.tables types them VIEW")

        # 2. their columns and types
        for view, cols in sorted(VIEWS.items()):
            cur.execute("SELECT column_name, data_type FROM information_schema.columns"
                        " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                        (TARGET, view))
            got = cur.fetchall()
            is_(got, cols, "%s: documented column names and types" % view)
            ok(all(re.fullmatch(r"[a-z][a-z0-9_]*", c) for c, _ in got),
               "%s: column names are lower case identifiers" % view)
        # comments are what BI tools show as descriptions
        cur.execute("SELECT obj_description(format('%%I.%%I', %s::text, 'user_metrics')::regclass, 'pg_class')",
                    (TARGET,))
        ok((cur.fetchone()[0] or "").startswith("qoe_agg:"), "user_metrics has a description")
    conn.commit()

    # 3. rows through server-side cursors
    q = 'SELECT * FROM "qoe client".%s'
    desc, rows = fetch_server_side(conn, q % "session_metrics ORDER BY session_id", "bi_sessions")
    names = [d.name for d in desc]
    is_(names, [c for c, _ in SESSION_METRICS], "cursor description names the session_metrics columns")
    is_(len(rows), 2, "session_metrics: one row per session")
    s1 = dict(zip(names, rows[0]))
    s2 = dict(zip(names, rows[1]))
    is_((s1["session_id"], s1["watch_time_s"], s1["startup_time_s"], s1["avg_bitrate_bps"],
         s1["completed"]), ("s1", 100.0, 2.0, 3000000.0, True),
        "s1: watch 100 s, startup 2 s, 3 Mbps, completed")
    is_((s2["watch_time_s"], s2["percent_watched"], s2["completed"], s2["event_count"]),
        (40.0, 0.4, False, 3), "s2: watch 40 s, 40 % watched, not completed, 3 events")
    ok(isinstance(s1["day"], datetime.date) and s1["day"] == datetime.date(2024, 3, 1),
       "day arrives as a date")
    ok(isinstance(s1["first_ts"], datetime.datetime) and s1["first_ts"].tzinfo is not None,
       "first_ts arrives as an aware datetime")
    ok(isinstance(s1["event_count"], int) and isinstance(s1["watch_time_s"], float),
       "bigint and double precision arrive as int and float")

    desc, rows = fetch_server_side(conn, q % "user_metrics ORDER BY user_id", "bi_users")
    users = [dict(zip([d.name for d in desc], r)) for r in rows]
    # u1: 50*100/36000 + 30*1/1 + 20*1/10 = 0.14 + 30 + 2 = 32.1 -> Medium
    # u2: 50*40/36000 + 0 + 2 = 2.1 -> Minimal
    is_([(u["user_id"], u["engagement_score"], u["engagement_tier"]) for u in users],
        [(1, 32.1, "Medium"), (2, 2.1, "Minimal")], "user_metrics: engagement scores and tiers")

    desc, rows = fetch_server_side(conn, q % "video_metrics", "bi_videos")
    v = dict(zip([d.name for d in desc], rows[0]))
    # v1: 2 viewers, 140 s, 1 of 2 completed, avg 70 s, avg percent 0.7
    is_((v["video_id"], v["unique_viewers"], v["total_watch_time_s"], v["completion_rate"],
         v["avg_watch_time_s"], round(v["avg_percent_watched"], 6)),
        ("v1", 2, 140.0, 0.5, 70.0, 0.7), "video_metrics: v1 figures")

    desc, rows = fetch_server_side(conn, q % "daily_metrics", "bi_daily")
    d = dict(zip([x.name for x in desc], rows[0]))
    is_((d["day"], d["active_users"], d["sessions"], d["watch_time_s"], d["avg_startup_time_s"]),
        (datetime.date(2024, 3, 1), 2, 2, 140.0, 1.0), "daily_metrics: 2024-03-01 figures")

    desc, rows = fetch_server_side(conn, q % "data_quality", "bi_dq")
    dq = {r[0]: r[1] for r in rows}
    is_(len(dq), 9, "data_quality: nine checks")
    is_(sum(dq.values()), 0, "data_quality: every check passes on clean data")

    desc, rows = fetch_server_side(conn, q % "alerts", "bi_alerts")
    is_([r[0] for r in rows], ["stale_data"], "alerts: only stale_data fires (2024 data)")

    with conn.cursor() as cur:
        cur.execute('DROP SCHEMA bi_client, "qoe client" CASCADE')
    conn.commit()
    conn.close()


if __name__ == "__main__":
    try:
        main()
    except Exception:
        ok(False, "the script ran to the end", traceback.format_exc())
    print("1..%d" % N)
    sys.exit(1 if FAILED else 0)
