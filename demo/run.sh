#!/usr/bin/env bash
#
# demo/run.sh -- the qoe_agg demo (`make demo`), on a Debian 12 machine as
# root (or with password-less sudo):
#
#   1. installs the Debian packages it needs (those of the test runner, plus
#      gnuplot-nox for the charts), builds with -Werror and installs;
#   2. starts a throwaway PostgreSQL 15 cluster (pg_virtualenv), creates the
#      extension, generates 100,000 viewing sessions over 30 days with
#      qoe_generate_events() (demo/generate.sql);
#   3. summarises every session with the extension's aggregates
#      (demo/sessions.sql) and prints the report (demo/report.sql);
#   4. drops the cluster, draws the charts (demo/charts.gp) into demo/out/
#      and copies them to docs/.
#
# Environment: QOE_DEMO_SESSIONS (default 100000), QOE_DEMO_DAYS (30),
# QOE_DEMO_SEED (1).  Same setup functions as the test runner
# (test/run_all.sh).

set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=test/run_all.sh
source "$ROOT/test/run_all.sh"
set -e

SESSIONS=${QOE_DEMO_SESSIONS:-100000}
DAYS=${QOE_DEMO_DAYS:-30}
SEED=${QOE_DEMO_SEED:-1}
export QOE_DEMO_T0=${QOE_DEMO_T0:-$(date +%s.%N)}

elapsed() { awk -v t0="$QOE_DEMO_T0" -v t="$(date +%s.%N)" 'BEGIN { printf "%6.1f", t - t0 }'; }

# step "what" command...: a progress line, the command, its duration
step()
{
	local what=$1 t
	shift
	printf '==> [%s s] %s\n' "$(elapsed)" "$what"
	t=$(date +%s.%N)
	"$@"
	awk -v t0="$t" -v t="$(date +%s.%N)" 'BEGIN { printf "    done in %.1f s\n", t - t0 }'
}

if [ "${1:-}" = "--inner" ]; then
	cd "$ROOT/demo"
	mkdir -p out
	psql=(timeout -k 5 600 "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -P pager=off
		-v sessions="$SESSIONS" -v days="$DAYS" -v seed="$SEED")
	step "CREATE EXTENSION qoe_agg" "${psql[@]}" -c 'CREATE EXTENSION qoe_agg'
	step "generating $SESSIONS sessions over $DAYS days: CREATE TABLE events AS SELECT * FROM qoe_generate_events($SESSIONS, $DAYS, $SEED)" \
		"${psql[@]}" -f generate.sql
	step "summarising every session: qoe_timeline(e) ... GROUP BY session_id, then qoe_stats(t)" \
		"${psql[@]}" -f sessions.sql
	step "report" "${psql[@]}" -f report.sql
	exit
fi

PACKAGES+=(gnuplot-nox)
step "checking Debian packages" ensure_packages
step "building (-Werror) and installing" build_install
trap stop_cluster_on_signal EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
printf '==> [%s s] starting a throwaway PostgreSQL %s cluster\n' "$(elapsed)" "$PGVER"
run_in_cluster bash "$ROOT/demo/run.sh" --inner
printf '==> [%s s] throwaway cluster dropped\n' "$(elapsed)"

cd "$ROOT/demo"
step "charts: demo/out/daily.png, demo/out/rebuffer_by_device_app.png (copied to docs/)" \
	gnuplot charts.gp
mkdir -p "$ROOT/docs"
cp out/daily.png out/rebuffer_by_device_app.png "$ROOT/docs/"
printf '==> [%s s] demo finished\n' "$(elapsed)"
