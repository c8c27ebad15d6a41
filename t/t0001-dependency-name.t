#!/bin/sh

test_description='Test dependency.name: wait for a job given by its name

Runs under a real Flux instance whose job-ingest loads the dependency
frobnicator plugin from this source tree.'

. /usr/share/sharness/sharness.sh

test_under_flux 1

OTHER_USERID=$(($(id -u) + 4242))

test_expect_success 'dependency.name adds afterok on the id of the named job' '
	jobid=$(flux submit --urgency=hold --job-name=first hostname) &&
	depid=$(flux submit --setattr=dependency.name=first hostname) &&
	flux job info $depid jobspec >first.jobspec &&
	jq -e ".attributes.system.dependencies == \
		[{\"scheme\": \"afterok\", \"value\": \"$jobid\"}]" first.jobspec
'
test_expect_success 'the job waits in DEPEND with flux jobs INFO depends:after-success' '
	flux job wait-event -t 15 $depid dependency-add &&
	test "$(flux jobs -no {state} $depid)" = "DEPEND" &&
	flux jobs -no {contextual_info} $depid >first.info &&
	test_debug "cat first.info" &&
	grep "^depends:after-success=$jobid$" first.info
'
test_expect_success 'the job runs after the named job succeeds' '
	flux job urgency $jobid default &&
	flux job wait-event -t 15 $jobid finish &&
	flux job wait-event -t 15 $depid start &&
	flux job wait-event -t 15 $depid clean &&
	test "$(flux jobs -no {result} $depid)" = "COMPLETED"
'
test_expect_success 'the job gets a dependency exception, without running, when the named job fails' '
	jobid=$(flux submit --urgency=hold --job-name=doomed false) &&
	depid=$(flux submit --setattr=dependency.name=doomed hostname) &&
	flux job wait-event -t 15 $depid dependency-add &&
	flux job urgency $jobid default &&
	flux job wait-event -t 15 -m type=dependency $depid exception &&
	flux job wait-event -t 15 $depid clean &&
	flux job eventlog $depid >doomed.eventlog &&
	test_must_fail grep -w start doomed.eventlog
'
test_expect_success 'a completed named job is found and satisfies afterok at once' '
	jobid=$(flux submit --job-name=done true) &&
	flux job wait-event -t 15 $jobid clean &&
	depid=$(flux submit --setattr=dependency.name=done true) &&
	flux job info $depid jobspec | jq -r ".attributes.system.dependencies[0].value" >done.value &&
	test "$(cat done.value)" = "$jobid" &&
	flux job wait-event -t 15 $depid clean &&
	test "$(flux jobs -no {result} $depid)" = "COMPLETED"
'
test_expect_success 'a failed named job is found: the job is refused as afterok on its id is' '
	jobid=$(flux submit --job-name=failed false) &&
	flux job wait-event -t 15 $jobid clean &&
	test_must_fail flux submit --dependency=afterok:$jobid true \
		2>failed-native.err &&
	test_must_fail flux submit --setattr=dependency.name=failed true \
		2>failed-name.err &&
	test_debug "cat failed-native.err failed-name.err" &&
	grep "dependency: afterok: job $jobid failed or was canceled" \
		failed-name.err &&
	test_cmp failed-native.err failed-name.err
'
test_expect_success 'a purged job is no longer found by its name' '
	jobid=$(flux submit --job-name=purged-one true) &&
	flux submit --dry-run --setattr=dependency.name=purged-one true \
		| frob_afterok >before-purge.out &&
	test "$(cat before-purge.out)" = "$jobid" &&
	flux job wait-event -t 15 $jobid clean &&
	flux job purge --force --num-limit=0 &&
	test_debug "echo waiting for job-list to drop the purged job" &&
	while test -n "$(flux jobs -a -n --name=purged-one)"; do
		sleep 0.1
	done &&
	test_must_fail flux submit --setattr=dependency.name=purged-one true \
		2>purged.err &&
	test_debug "cat purged.err" &&
	grep "dependency.name: no job named '\''purged-one'\'' found" purged.err
'
test_expect_success 'of several jobs with the name, the most recently submitted is chosen' '
	old=$(flux submit --urgency=hold --job-name=several true) &&
	mid=$(flux submit --urgency=hold --job-name=several true) &&
	new=$(flux submit --urgency=hold --job-name=several true) &&
	flux submit --dry-run --setattr=dependency.name=several true \
		| frob_afterok >several.out &&
	test "$(cat several.out)" = "$new" &&
	flux cancel $old $mid $new
'
test_expect_success 'the most recently submitted is chosen in any state (job-list streams every match)' '
	held=$(flux submit --urgency=hold --job-name=pair true) &&
	done=$(flux submit --job-name=pair true) &&
	flux job wait-event -t 15 $done clean &&
	flux submit --dry-run --setattr=dependency.name=pair true \
		| frob_afterok >pair.out &&
	test "$(cat pair.out)" = "$done" &&
	flux cancel $held
'
test_expect_success 'a name no job has rejects the submission with one line naming attribute and name' '
	test_must_fail flux submit --setattr=dependency.name=nosuchjob true \
		>nosuch.out 2>nosuch.err &&
	test_debug "cat nosuch.err" &&
	test $(wc -l <nosuch.err) -eq 1 &&
	grep "dependency.name: no job named '\''nosuchjob'\'' found" nosuch.err &&
	test_must_fail grep Traceback nosuch.err
'
test_expect_success 'dependencies from --dependency are kept and the named one is added after them' '
	a=$(flux submit --urgency=hold true) &&
	b=$(flux submit --urgency=hold --job-name=keep true) &&
	c=$(flux submit --dependency=afterany:$a \
		--setattr=dependency.name=keep true) &&
	flux job info $c jobspec >keep.jobspec &&
	jq -e ".attributes.system.dependencies == [ \
		{\"scheme\": \"afterany\", \"value\": \"$a\"}, \
		{\"scheme\": \"afterok\", \"value\": \"$b\"}]" keep.jobspec &&
	flux cancel $c $a $b
'
test_expect_success 'a job without dependency.name passes through unchanged' '
	flux submit --dry-run --dependency=afterany:1234 -t 5m true >plain.json &&
	flux job-frobnicator --jobspec-only --plugins=$DEPENDENCY_PLUGIN \
		<plain.json >plain.out &&
	jq -e ".errnum == 0" plain.out &&
	jq -S .data plain.out >plain.after &&
	jq -S . plain.json >plain.before &&
	test_cmp plain.before plain.after
'
test_expect_success 'a job without dependency.name costs no query (job-list unloaded)' '
	flux module remove job-list &&
	test_when_finished "flux module load job-list" &&
	flux submit true
'
test_expect_success 'if job-list fails, a name the index does not hold fails with a clear message' '
	flux module remove job-list &&
	test_when_finished "flux module load job-list" &&
	test_must_fail flux submit --setattr=dependency.name=not-indexed true \
		2>nolist.err &&
	test_debug "cat nolist.err" &&
	test $(wc -l <nolist.err) -eq 1 &&
	grep "dependency.name: job-list lookup failed" nolist.err &&
	flux submit true
'
test_expect_success 'if job-list fails, names the index holds still resolve' '
	jobid=$(flux submit --urgency=hold --job-name=indexed true) &&
	flux module remove job-list &&
	test_when_finished "flux module load job-list" &&
	flux submit --dry-run --setattr=dependency.name=indexed true \
		| frob_afterok >indexed.out &&
	test "$(cat indexed.out)" = "$jobid" &&
	flux cancel $jobid
'
test_expect_success 'with index = false, every name is asked of job-list' '
	load_config_with <<-EOT &&
	[ingest.frobnicator.dependency]
	index = false
	EOT
	test_when_finished "broker_config_from_source | flux config load" &&
	flux module remove job-list &&
	test_when_finished "flux module load job-list" &&
	test_must_fail flux submit --setattr=dependency.name=done true \
		2>noindex.err &&
	test_debug "cat noindex.err" &&
	test $(wc -l <noindex.err) -eq 1 &&
	grep "dependency.name: job-list lookup failed" noindex.err &&
	flux submit true
'
test_expect_success 'a number is taken as its text' '
	jobid=$(flux submit --urgency=hold --job-name=123 true) &&
	depid=$(flux submit --urgency=hold --setattr=dependency.name=123 true) &&
	flux job info $depid jobspec | jq -r ".attributes.system.dependencies[0].value" >number.value &&
	test "$(cat number.value)" = "$jobid" &&
	flux cancel $depid $jobid
'
test_expect_success 'a list of names gives one afterok per name' '
	x=$(flux submit --urgency=hold --job-name=list-x true) &&
	y=$(flux submit --urgency=hold --job-name=list-y true) &&
	depid=$(flux submit --urgency=hold \
		--setattr=dependency.name="[\"list-x\", \"list-y\"]" true) &&
	flux job info $depid jobspec >list.jobspec &&
	jq -e ".attributes.system.dependencies == [ \
		{\"scheme\": \"afterok\", \"value\": \"$x\"}, \
		{\"scheme\": \"afterok\", \"value\": \"$y\"}]" list.jobspec &&
	flux cancel $depid $x $y
'
test_expect_success 'a list with one name missing is rejected, naming that name' '
	test_must_fail flux submit \
		--setattr=dependency.name="[\"list-x\", \"list-none\"]" true \
		2>list-missing.err &&
	grep "dependency.name: no job named '\''list-none'\'' found" list-missing.err
'
# value|what the one-line error must say after "dependency.name: "
while IFS='|' read value expected; do
	test_expect_success "dependency.name=$value is rejected with a clear message" "
		test_must_fail flux submit --setattr=dependency.name='$value' true \
			2>bad.err &&
		test_debug 'cat bad.err' &&
		test \$(wc -l <bad.err) -eq 1 &&
		grep 'dependency.name: $expected' bad.err
	"
done <<'EOF_VALUES'
""|job name must not be empty
"   "|job name must not be empty
true|expected a job name or a list of job names, got true
false|expected a job name or a list of job names, got false
null|expected a job name or a list of job names, got null
{"a":1}|expected a job name or a list of job names, got an object
[["a"]]|expected a job name in the list, got a list
[]|expected at least one job name
EOF_VALUES
test_expect_success 'an unknown key under dependency is rejected, naming it' '
	test_must_fail flux submit --setattr=dependency.nmae=first true \
		2>typo.err &&
	grep "dependency.nmae: unknown key" typo.err
'
test_expect_success 'the worker survives bad input: the next job is accepted' '
	for value in true null "[[1]]" "{}" ""; do
		test_must_fail flux submit --setattr=dependency.name="$value" true \
			2>>survive.err || return 1
	done &&
	test_must_fail grep -i "worker unexpectedly exited" survive.err &&
	jobid=$(flux submit --urgency=hold --job-name=survivor true) &&
	flux submit --dry-run --setattr=dependency.name=survivor true \
		| frob_afterok >survive.out &&
	test "$(cat survive.out)" = "$jobid" &&
	flux cancel $jobid
'
test_expect_success 'another user'\''s job of the same name is never chosen' '
	mine=$(flux submit --urgency=hold --job-name=shared true) &&
	theirs=$(submit_as_user $OTHER_USERID --job-name=shared true) &&
	test "$(flux jobs -no {userid} $theirs)" = "$OTHER_USERID" &&
	depid=$(flux submit --urgency=hold --setattr=dependency.name=shared true) &&
	flux job info $depid jobspec | jq -r ".attributes.system.dependencies[0].value" >shared.value &&
	test "$(cat shared.value)" = "$mine" &&
	flux cancel $depid
'
test_expect_success 'a name only another user has is not found' '
	only=$(submit_as_user $OTHER_USERID --job-name=theirs true) &&
	test_must_fail flux submit --setattr=dependency.name=theirs true 2>theirs.err &&
	grep "no job named '\''theirs'\'' found" theirs.err
'
test_expect_success 'the lookup uses the userid given to frob, not the worker'\''s own' '
	flux submit --dry-run --setattr=dependency.name=theirs true \
		| jq -c "{jobspec: ., userid: $OTHER_USERID, urgency: 16, flags: 0}" \
		| flux job-frobnicator --plugins=$DEPENDENCY_PLUGIN >as-other.out &&
	jq -e ".data.attributes.system.dependencies[0].value == \"$only\"" \
		as-other.out &&
	flux submit --dry-run --setattr=dependency.name=first true \
		| jq -c "{jobspec: ., userid: $OTHER_USERID, urgency: 16, flags: 0}" \
		| flux job-frobnicator --plugins=$DEPENDENCY_PLUGIN >as-other2.out &&
	jq -e ".errstr == \"dependency.name: no job named '\''first'\'' found\"" \
		as-other2.out
'
test_expect_success 'another user submitting by name gets their own job' '
	depid=$(submit_as_user $OTHER_USERID \
		--setattr=dependency.name=shared true) &&
	flux job info $depid jobspec | jq -r ".attributes.system.dependencies[0].value" >their-shared.value &&
	test "$(cat their-shared.value)" = "$theirs" &&
	flux cancel $depid $theirs $mine
'
test_expect_success 'a job whose submit returned is found by the next submission, back to back' '
	for i in $(seq 1 50); do
		id=$(flux submit --urgency=hold --job-name=b2b-$i true) &&
		flux submit --dry-run --setattr=dependency.name=b2b-$i true \
			| frob_afterok >b2b.out &&
		test "$(cat b2b.out)" = "$id" || return 1
	done &&
	for i in $(seq 1 50); do
		id=$(flux submit --urgency=hold --job-name=b2b2-$i true) &&
		dep=$(flux submit --urgency=hold --setattr=dependency.name=b2b2-$i true) || return 1
	done &&
	flux cancel --all
'
test_expect_success 'a name reused back to back: the next submission gets the newest job' '
	for i in $(seq 1 50); do
		id=$(flux submit --urgency=hold --job-name=reused true) &&
		dep=$(flux submit --urgency=hold \
			--setattr=dependency.name=reused true) &&
		flux job info $dep jobspec \
			| jq -r ".attributes.system.dependencies[0].value" >reused.value &&
		test "$(cat reused.value)" = "$id" || return 1
	done &&
	flux cancel --all
'
test_expect_success 'names are found with thousands of jobs in the instance' '
	flux submit --cc=1-2000 --urgency=hold --job-name=crowd true >crowd.ids &&
	flux submit --cc=1-1000 --urgency=hold true >/dev/null &&
	last=$(tail -1 crowd.ids) &&
	flux submit --dry-run --setattr=dependency.name=crowd true \
		| frob_afterok >crowd.out &&
	test "$(cat crowd.out)" = "$last" &&
	jobid=$(flux submit --urgency=hold --job-name=needle true) &&
	flux submit --dry-run --setattr=dependency.name=needle true \
		| frob_afterok >needle.out &&
	test "$(cat needle.out)" = "$jobid" &&
	flux cancel --all
'
test_done
