#!/usr/bin/env bash
# Run each libFuzzer target for a bounded time on its seed corpus, the
# corpus kept in tests/fuzz/corpus/<target> and tests/fuzz/<target>.dict if
# present: `make fuzz-smoke` calls it. Targets run JOBS at a time (one per
# core by default); a failing target prints its log's tail and fails the run
# once the others are done.
# usage: smoke.sh SRCDIR SECONDS JOBS TARGET...
set -u
srcdir=$1 seconds=$2 jobs=$3
shift 3
run_one() {
	local t=$1 corpus=tests/fuzz/corpus-$1 dict seeds kept
	mkdir -p "$corpus"
	dict="$srcdir/tests/fuzz/$t.dict"
	if [ -f "$dict" ]; then dict="-dict=$dict"; else dict=; fi
	seeds="$srcdir/tests/fuzz/seeds/$t" kept="$srcdir/tests/fuzz/corpus/$t"
	[ -d "$seeds" ] || seeds=
	[ -d "$kept" ] || kept=
	if tests/fuzz/$t -max_total_time="$seconds" -print_final_stats=1 $dict \
		-rss_limit_mb=2048 "$corpus" $seeds $kept \
		>"tests/fuzz/$t.log" 2>&1; then
		printf 'fuzz-smoke: %s: %s runs in %ss, ok\n' "$t" \
			"$(sed -n 's/^stat::number_of_executed_units: *//p' "tests/fuzz/$t.log")" "$seconds"
	else
		printf 'fuzz-smoke: %s FAILED, its log ends:\n' "$t"
		tail -n 50 "tests/fuzz/$t.log"
		return 1
	fi
}
export -f run_one
export srcdir seconds
printf '%s\n' "$@" | xargs -P "$jobs" -I{} bash -c 'run_one "$1"' _ {}
rc=$?
[ "$rc" -eq 0 ] || { echo "fuzz-smoke: at least one target failed" >&2; exit 1; }
