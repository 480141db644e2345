#!/usr/bin/env bash
#
# test/run_all.sh -- THE test command of qoe_agg (`make test`; .ci/run).
#
# On a Debian 12 machine (fresh or not), as root:
#   1. installs the Debian packages it needs (apt-get update only when
#      something is missing);
#   2. builds the extension from clean with -Werror and installs it;
#   3. builds and runs the C unit tests of the pure core (make unit);
#   4. starts a throwaway PostgreSQL 15 cluster with pg_virtualenv (temporary
#      directory, random password, dropped on every exit path), and runs
#        - the pg_regress suite: make installcheck (sql/*.sql, expected/*.out),
#        - the pgTAP suite: pg_prove over test/pgtap/*.sql in a database
#          that has the pgtap extension;
#        - the BI client tests: test/client/test_*.py (TAP, Debian's
#          python3-psycopg2) under prove, in a database of their own;
#   5. prints ONE summary line, alone and last: "N passed, N failed".
#
# What is counted:
#   - pg_regress: one per test (sql/*.sql file); a test that did not report
#     counts as failed;
#   - pgTAP, BI client and C unit tests: one per TAP assertion ("ok"/"not
#     ok"); tests planned but not run count as failed; a file that exits
#     non-zero or has a broken plan without a failed assertion counts one
#     failure;
#   - a stage that could not run (package install, build, cluster start, no
#     unit tests, no regression tests) counts one failure.  An empty pgTAP
#     directory is reported but is not a failure.
# The exit status is 0 exactly when the failed count is 0.
#
# Environment: QOE_TEST_TIMEOUT (seconds per stage, default 1800),
# QOE_SKIP_APT=1 (never call apt-get; fail if something is missing).
#
# test/run_all.sh --inner RESULTFILE is the part that runs inside
# pg_virtualenv; demo/run.sh sources this file for its setup functions.

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGVER=15
PGBIN=/usr/lib/postgresql/$PGVER/bin
PG_CONFIG=$PGBIN/pg_config
STAGE_TIMEOUT=${QOE_TEST_TIMEOUT:-1800}
PACKAGES=(
	build-essential make gcc perl
	"postgresql-$PGVER" "postgresql-server-dev-$PGVER" postgresql-common
	"postgresql-$PGVER-pgtap" libtap-parser-sourcehandler-pgtap-perl
	clang libclang-rt-14-dev
	python3 python3-psycopg2
)
export LC_ALL=C.UTF-8 LANG=C.UTF-8
export DEBIAN_FRONTEND=noninteractive

say() { printf '==> %s\n' "$*"; }
warn() { printf '==> %s\n' "$*" >&2; }

# ---------------------------------------------------------------------
# Setup (also used by demo/run.sh)
# ---------------------------------------------------------------------
ensure_packages()
{
	local p missing=() sudo=()
	for p in "${PACKAGES[@]}"; do
		[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing missing packages: ${missing[*]}"
	if [ -n "${QOE_SKIP_APT:-}" ]; then
		warn "QOE_SKIP_APT is set; install them yourself"
		return 1
	fi
	if [ "$(id -u)" != 0 ]; then
		if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
			sudo=(sudo -n env DEBIAN_FRONTEND=noninteractive)
		else
			warn "not root and no password-less sudo: install them yourself"
			return 1
		fi
	fi
	local apt=("${sudo[@]}" timeout -k 30 "$STAGE_TIMEOUT" apt-get
		-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3 -q -y)
	"${apt[@]}" update </dev/null &&
		"${apt[@]}" install --no-install-recommends "${missing[@]}" </dev/null
}

# make clean && make && make install, warnings as errors
build_install()
{
	local sudo=()
	[ "$(id -u)" = 0 ] || sudo=(sudo -n)
	make -C "$ROOT" -s clean PG_CONFIG="$PG_CONFIG" >/dev/null &&
		make -C "$ROOT" -j"$(nproc)" PG_CONFIG="$PG_CONFIG" WERROR=-Werror </dev/null &&
		"${sudo[@]}" make -C "$ROOT" install PG_CONFIG="$PG_CONFIG" </dev/null >/dev/null
}

# Run "$@" (a command running the throwaway cluster's client side) under
# pg_virtualenv in its own process group, so that a signal to us reaches it
# and pg_virtualenv's own trap drops the cluster.
VENV_PID=
QOE_TMP=/nonexistent
run_in_cluster()
{
	setsid pg_virtualenv -t -v "$PGVER" \
		-i '--encoding=UTF8 --locale=C.UTF-8' "$@" </dev/null &
	VENV_PID=$!
	wait "$VENV_PID"
	local rc=$?
	VENV_PID=
	return $rc
}

stop_cluster_on_signal()
{
	if [ -n "$VENV_PID" ] && kill -0 "$VENV_PID" 2>/dev/null; then
		warn "interrupted: stopping the throwaway cluster"
		kill -TERM -- "-$VENV_PID" 2>/dev/null
		# pg_virtualenv drops the cluster once its command is gone
		local _
		for _ in $(seq 1 60); do
			kill -0 "$VENV_PID" 2>/dev/null || break
			sleep 1
		done
		kill -KILL -- "-$VENV_PID" 2>/dev/null
	fi
}

# ---------------------------------------------------------------------
# Counting
# ---------------------------------------------------------------------

# TAP::Harness (prove / pg_prove) output in $1 -> "passed failed", or
# nothing when no summary was printed (the harness did not run).
tap_counts()
{
	perl -ne '
		BEGIN { $fail = $afail = $gap = $bad = 0 }
		sub flush { if (defined $cur) { $fail += $gap;
			$fail += 1 if $cur == 0 && $gap == 0 && $bad; } undef $cur; }
		if (/\(Wstat: .*Tests: (\d+) Failed: (\d+)\)\s*$/) {
			flush(); $cur = $2; $fail += $2; $afail += $2; $gap = 0; $bad = 0; next; }
		if (defined $cur && /^\s+(.*)/) { my $l = $1;
			$gap += $1 - $2 if $l =~ /You planned (\d+) tests? but ran (\d+)/ && $1 > $2;
			$bad = 1 if $l =~ /^(Non-zero exit|Non-zero wait|Parse errors|No plan)/;
			next; }
		flush();
		if (/^Files=\d+, Tests=(\d+),/) { $total = $1; $seen = 1; }
		END { flush(); print $total - $afail, " ", $fail, "\n" if $seen; }
	' "$1"
}

# pg_regress output in $1, expected number of tests $2 -> "passed failed"
regress_counts()
{
	local ok bad
	ok=$(grep -cE '\.\.\. ok( |$)' "$1")
	bad=$(grep -cE '\.\.\. (FAILED|failed)' "$1")
	if [ $((ok + bad)) -lt "$2" ]; then
		bad=$(($2 - ok))
	fi
	echo "$ok $bad"
}

# ---------------------------------------------------------------------
# Inside the throwaway cluster (PGHOST, PGPORT, PGUSER, PGPASSWORD set)
# ---------------------------------------------------------------------
inner()
{
	local result=$1 log
	log=$(dirname "$result")
	local rp=0 rf=0 tp=0 tf=0 cp=0 cf=0 counts n
	cd "$ROOT" || exit 1
	local psql=(timeout -k 5 120 "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1)

	if ! "${psql[@]}" -At -c 'select version()'; then
		warn "cannot connect to the throwaway cluster"
		echo "0 1 0 1 0 0" >"$result"
		return 1
	fi

	# --- pg_regress -----------------------------------------------------
	shopt -s nullglob
	local regress=(sql/*.sql) pgtap=(test/pgtap/*.sql)
	shopt -u nullglob
	if [ ${#regress[@]} -eq 0 ]; then
		warn "pg_regress: no tests in sql/*.sql (counted as 1 failure)"
		rf=1
	else
		say "pg_regress: ${#regress[@]} tests"
		timeout -k 10 "$STAGE_TIMEOUT" make -C "$ROOT" installcheck PG_CONFIG="$PG_CONFIG" \
			</dev/null 2>&1 | tee "$log/regress.log"
		read -r rp rf < <(regress_counts "$log/regress.log" ${#regress[@]})
		if [ "$rf" -gt 0 ] && [ -s regression.diffs ]; then
			n=$(wc -l <regression.diffs)
			say "regression.diffs ($n lines, first 300):"
			head -n 300 regression.diffs
			[ "$n" -le 300 ] || say "... $((n - 300)) more lines in $ROOT/regression.diffs"
		fi
	fi

	# --- pgTAP ----------------------------------------------------------
	if [ ${#pgtap[@]} -eq 0 ]; then
		say "pgTAP: no tests in test/pgtap/*.sql (skipped, not counted)"
	elif ! { "${psql[@]}" -d postgres -c 'DROP DATABASE IF EXISTS qoe_pgtap' &&
		"${psql[@]}" -d postgres -c 'CREATE DATABASE qoe_pgtap' &&
		"${psql[@]}" -d qoe_pgtap -c 'CREATE EXTENSION pgtap'; }; then
		warn "pgTAP: could not prepare the qoe_pgtap database (counted as 1 failure)"
		tf=1
	else
		say "pgTAP: ${#pgtap[@]} files"
		timeout -k 10 "$STAGE_TIMEOUT" pg_prove --dbname qoe_pgtap --psql-bin "$PGBIN/psql" \
			"${pgtap[@]}" </dev/null 2>&1 | tee "$log/pgtap.log"
		counts=$(tap_counts "$log/pgtap.log")
		if [ -n "$counts" ]; then
			read -r tp tf <<<"$counts"
		else
			warn "pgTAP: pg_prove did not run (counted as 1 failure)"
			tf=1
		fi
	fi

	# --- BI client tests (views read through psycopg2) -------------------
	shopt -s nullglob
	local client=(test/client/test_*.py)
	shopt -u nullglob
	if [ ${#client[@]} -eq 0 ]; then
		say "BI client: no tests in test/client/test_*.py (skipped, not counted)"
	elif ! { "${psql[@]}" -d postgres -c 'DROP DATABASE IF EXISTS qoe_client' &&
		"${psql[@]}" -d postgres -c 'CREATE DATABASE qoe_client'; }; then
		warn "BI client: could not prepare the qoe_client database (counted as 1 failure)"
		cf=1
	else
		say "BI client: ${#client[@]} files"
		PGDATABASE=qoe_client timeout -k 10 "$STAGE_TIMEOUT" prove --exec /usr/bin/python3 \
			"${client[@]}" </dev/null 2>&1 | tee "$log/client.log"
		counts=$(tap_counts "$log/client.log")
		if [ -n "$counts" ]; then
			read -r cp cf <<<"$counts"
		else
			warn "BI client: prove did not run (counted as 1 failure)"
			cf=1
		fi
	fi

	echo "$rp $rf $tp $tf $cp $cf" >"$result"
	[ "$rf" -eq 0 ] && [ "$tf" -eq 0 ] && [ "$cf" -eq 0 ]
}

# ---------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------
main()
{
	local passed=0 failed=0 tmp counts up uf rp rf tp tf cp cf
	tmp=$(mktemp -d -t qoe_test.XXXXXX) || exit 1
	QOE_TMP=$tmp
	# the throwaway cluster's settings come from pg_virtualenv only
	unset PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD PGSERVICE PGSERVICEFILE \
		PGOPTIONS PGSYSCONFDIR PGPASSFILE
	trap 'stop_cluster_on_signal; rm -rf "$QOE_TMP"' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP

	cd "$ROOT" || exit 1
	local ready=1
	if ! ensure_packages; then
		warn "package installation failed (counted as 1 failure)"
		failed=$((failed + 1)); ready=
	fi

	local built=
	if [ -n "$ready" ]; then
		say "building (-Werror) and installing"
		if build_install; then
			built=1
		else
			warn "build or install failed (counted as 1 failure)"
			failed=$((failed + 1))
		fi
	fi

	# --- C unit tests (no server needed; run even when the glue fails) ---
	if [ -n "$ready" ]; then
		say "C unit tests"
		timeout -k 10 "$STAGE_TIMEOUT" make -C "$ROOT" unit PG_CONFIG="$PG_CONFIG" </dev/null \
			2>&1 | tee "$tmp/unit.log"
		counts=$(tap_counts "$tmp/unit.log")
		if [ -n "$counts" ]; then
			read -r up uf <<<"$counts"
			passed=$((passed + up)); failed=$((failed + uf))
			if [ $((up + uf)) -eq 0 ]; then
				warn "C unit tests: no assertions ran (counted as 1 failure)"
				failed=$((failed + 1))
			fi
		else
			warn "C unit tests could not be built or run (counted as 1 failure)"
			failed=$((failed + 1))
		fi
	fi

	# --- throwaway cluster: pg_regress + pgTAP ---------------------------
	if [ -n "$built" ]; then
		say "starting a throwaway PostgreSQL $PGVER cluster"
		run_in_cluster bash "$ROOT/test/run_all.sh" --inner "$tmp/cluster.result"
		if [ -s "$tmp/cluster.result" ]; then
			read -r rp rf tp tf cp cf <"$tmp/cluster.result"
			passed=$((passed + rp + tp + ${cp:-0})); failed=$((failed + rf + tf + ${cf:-0}))
		else
			warn "the throwaway cluster stage did not complete (counted as 1 failure)"
			failed=$((failed + 1))
		fi
	elif [ -n "$ready" ]; then
		warn "pg_regress and pgTAP not run: the extension did not build"
	fi

	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	if [ "${1:-}" = "--inner" ]; then
		inner "$2"
	else
		main "$@"
	fi
fi
