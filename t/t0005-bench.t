#!/bin/sh

test_description='Test that the benchmark runs (a tiny run; no timing is checked)'

. /usr/share/sharness/sharness.sh

BENCH="$SHARNESS_TEST_SRCDIR/bench/bench.py"

test_expect_success 'a small benchmark run prints its table and writes JSON' '
	flux python "$BENCH" --sizes 0,20 --rounds 1 --latency-jobs 3 \
		--throughput-jobs 10 --window 5 --json small.json \
		--png small.png >bench.out 2>&1 &&
	test_debug "cat bench.out" &&
	grep "^ *jobs *mode *native/s *name/s *ratio" bench.out &&
	test $(grep -c "latency\|throughput" bench.out) -eq 4
'
test_expect_success 'the JSON has a ratio and worker memory for every cell' '
	jq -e ".cells | length == 2" small.json &&
	jq -e "[.cells[] | .latency.ratio, .throughput.ratio] | all(. > 0)" \
		small.json &&
	jq -e "[.cells[].worker_rss_mb] | all(. > 0)" small.json &&
	jq -e ".cells[1].size == 20" small.json
'
test_done
