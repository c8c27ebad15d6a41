#!/bin/sh

test_description='Test names in --dependency=SCHEME:NAME, patterns and match policy

A value of an after* dependency that is not a valid job id is resolved by
name, keeping its scheme; shell wildcards match several names; the match
policy (latest or all) chooses among jobs of one name.'

. /usr/share/sharness/sharness.sh

test_under_flux 1

test_expect_success 'submit jobs named task-1 (twice), task-2 and stage1-001..003' '
	task1_old=$(flux submit --urgency=hold --job-name=task-1 true) &&
	task1=$(flux submit --urgency=hold --job-name=task-1 true) &&
	task2=$(flux submit --urgency=hold --job-name=task-2 true) &&
	s1=$(flux submit --urgency=hold --job-name=stage1-001 true) &&
	s2=$(flux submit --urgency=hold --job-name=stage1-002 true) &&
	s3=$(flux submit --urgency=hold --job-name=stage1-003 true)
'
for scheme in afterok afterany afternotok afterstart; do
	test_expect_success "--dependency=$scheme:NAME becomes $scheme on the named job's id" "
		id=\$(flux submit --urgency=hold --dependency=$scheme:task-2 true) &&
		job_dependencies \$id >$scheme.out &&
		echo $scheme:\$task2 >$scheme.expected &&
		test_cmp $scheme.expected $scheme.out
	"
done
test_expect_success '--dependency=after:NAME keeps the deprecated scheme after' '
	id=$(flux submit --urgency=hold --dependency=after:task-2 true 2>after.err) &&
	job_dependencies $id >after.out &&
	echo after:$task2 >after.expected &&
	test_cmp after.expected after.out
'
test_expect_success 'without --dependency on a name, flux says the value is not a valid jobid' '
	flux config load </dev/null &&
	test_must_fail flux submit --dependency=afterok:task-1 true 2>native.err &&
	test_debug "cat native.err" &&
	grep "\"task-1\" is not a valid jobid" native.err &&
	broker_config_from_source | flux config load
'
test_expect_success 'two --dependency on names give two dependencies' '
	id=$(flux submit --urgency=hold \
		--dependency=afterok:task-1 --dependency=afterok:task-2 true) &&
	job_dependencies $id >two.out &&
	printf "afterok:%s\nafterok:%s\n" $task1 $task2 >two.expected &&
	test_cmp two.expected two.out
'
test_expect_success 'a value that is a valid job id is left exactly as it is' '
	id=$(flux submit --urgency=hold --dependency=afterok:$task2 true) &&
	job_dependencies $id >jobid.out &&
	echo afterok:$task2 >jobid.expected &&
	test_cmp jobid.expected jobid.out &&
	dec=$(flux job id --to=dec $task2) &&
	id=$(flux submit --urgency=hold --dependency=afterany:$dec true) &&
	job_dependencies $id >dec.out &&
	echo afterany:$dec >dec.expected &&
	test_cmp dec.expected dec.out
'
test_expect_success 'other schemes are left exactly as they are' '
	id=$(flux submit --urgency=hold --job-name=single \
		--dependency=singleton true) &&
	job_dependencies $id >singleton.out &&
	echo singleton: >singleton.expected &&
	test_cmp singleton.expected singleton.out &&
	test_must_fail flux submit --dependency=begin-time:task-1 true \
		2>begin.err &&
	test_debug "cat begin.err" &&
	test_must_fail grep "no job named" begin.err
'
test_expect_success 'a name that parses as a job id is taken as one; dependency.name finds the job' '
	fin=$(flux submit --urgency=hold --job-name=finished true) &&
	test_must_fail flux submit --dependency=afterok:finished true \
		2>finished.err &&
	test_debug "cat finished.err" &&
	grep "job not found" finished.err &&
	id=$(flux submit --urgency=hold --setattr=dependency.name=finished true) &&
	job_dependencies $id >finished.out &&
	echo afterok:$fin >finished.expected &&
	test_cmp finished.expected finished.out
'
test_expect_success 'a name no job has fails in flux style, naming scheme and name' '
	test_must_fail flux submit --dependency=afterany:task-9 true 2>task9.err &&
	test_debug "cat task9.err" &&
	test $(wc -l <task9.err) -eq 1 &&
	grep "dependency: afterany:task-9: no job named '\''task-9'\'' found" task9.err
'
test_expect_success 'a wildcard pattern makes the job depend on every matching name' '
	id=$(flux submit --urgency=hold --dependency="afterok:stage1-*" true) &&
	job_dependencies $id >glob.out &&
	printf "afterok:%s\n" $s1 $s2 $s3 >glob.expected &&
	test_cmp glob.expected glob.out
'
test_expect_success 'dependency.name takes wildcard patterns too ([...] and ?)' '
	id=$(flux submit --urgency=hold \
		--setattr=dependency.name="stage1-00[13]" true) &&
	job_dependencies $id >bracket.out &&
	printf "afterok:%s\n" $s1 $s3 >bracket.expected &&
	test_cmp bracket.expected bracket.out &&
	id=$(flux submit --urgency=hold --setattr=dependency.name="task-?" true) &&
	job_dependencies $id >question.out &&
	printf "afterok:%s\n" $task1 $task2 >question.expected &&
	test_cmp question.expected question.out
'
test_expect_success 'a pattern that matches no name is an error' '
	test_must_fail flux submit --dependency="afterok:stage2-*" true \
		2>noglob.err &&
	grep "dependency: afterok:stage2-\*: no job name matches '\''stage2-\*'\''" \
		noglob.err
'
test_expect_success 'a pattern does not match another user'\''s job names' '
	submit_as_user $(($(id -u) + 4242)) --job-name=stage1-999 true &&
	id=$(flux submit --urgency=hold --dependency="afterok:stage1-*" true) &&
	job_dependencies $id >glob-user.out &&
	test_cmp glob.expected glob-user.out
'
test_expect_success 'the default policy latest picks the most recently submitted job' '
	id=$(flux submit --urgency=hold --dependency=afterok:task-1 true) &&
	job_dependencies $id >latest.out &&
	echo afterok:$task1 >latest.expected &&
	test_cmp latest.expected latest.out
'
test_expect_success 'dependency.match=all picks every active job with the name' '
	id=$(flux submit --urgency=hold --setattr=dependency.name=task-1 \
		--setattr=dependency.match=all true) &&
	job_dependencies $id >all.out &&
	printf "afterok:%s\n" $task1_old $task1 >all.expected &&
	test_cmp all.expected all.out
'
test_expect_success 'the URI query ?match=all picks every active job with the name' '
	id=$(flux submit --urgency=hold --dependency="afterany:task-1?match=all" true) &&
	job_dependencies $id >uri-all.out &&
	printf "afterany:%s\n" $task1_old $task1 >uri-all.expected &&
	test_cmp uri-all.expected uri-all.out
'
test_expect_success 'match=all leaves out jobs that are no longer active' '
	flux cancel $task1_old &&
	flux job wait-event -t 15 $task1_old clean &&
	id=$(flux submit --urgency=hold --dependency="afterany:task-1?match=all" true) &&
	job_dependencies $id >all-active.out &&
	echo afterany:$task1 >all-active.expected &&
	test_cmp all-active.expected all-active.out
'
test_expect_success 'match=all falls back to latest when no job with the name is active' '
	old=$(flux submit --job-name=ended true) &&
	new=$(flux submit --job-name=ended true) &&
	flux job wait-event -t 15 $old clean &&
	flux job wait-event -t 15 $new clean &&
	id=$(flux submit --urgency=hold --dependency="afterany:ended?match=all" true) &&
	job_dependencies $id >fallback.out &&
	echo afterany:$new >fallback.expected &&
	test_cmp fallback.expected fallback.out
'
test_expect_success 'a bad match value is rejected, naming where it was given' '
	test_must_fail flux submit --setattr=dependency.name=task-1 \
		--setattr=dependency.match=newest true 2>match.err &&
	grep "dependency.match: expected \"latest\" or \"all\", got '\''newest'\''" \
		match.err &&
	test_must_fail flux submit --dependency="afterok:task-1?match=newest" true \
		2>uri-match.err &&
	grep "dependency: afterok:task-1: match: expected \"latest\" or \"all\"" \
		uri-match.err
'
test_expect_success 'match = "all" in [ingest.frobnicator.dependency] sets the default' '
	load_config_with <<-EOT &&
	[ingest.frobnicator.dependency]
	match = "all"
	EOT
	id=$(flux submit --urgency=hold --dependency="afterok:stage1-*" true) &&
	job_dependencies $id >conf-all.out &&
	test_cmp glob.expected conf-all.out &&
	flux job urgency $task1 hold &&
	t1b=$(flux submit --urgency=hold --job-name=task-1 true) &&
	id=$(flux submit --urgency=hold --setattr=dependency.name=task-1 true) &&
	job_dependencies $id >conf-all2.out &&
	printf "afterok:%s\n" $task1 $t1b >conf-all2.expected &&
	test_cmp conf-all2.expected conf-all2.out
'
test_expect_success 'a request for match=latest overrides the configured all' '
	id=$(flux submit --urgency=hold --dependency="afterok:task-1?match=latest" true) &&
	job_dependencies $id >override.out &&
	echo afterok:$t1b >override.expected &&
	test_cmp override.expected override.out
'
test_expect_success 'a pattern beyond max-matches is rejected with a message saying so' '
	load_config_with <<-EOT &&
	[ingest.frobnicator.dependency]
	max-matches = 2
	EOT
	test_must_fail flux submit --dependency="afterok:stage1-*" true \
		2>max.err &&
	test_debug "cat max.err" &&
	grep "'\''stage1-\*'\'' matches 3 jobs, more than max-matches (2)" max.err &&
	id=$(flux submit --urgency=hold --dependency="afterok:stage1-00[12]" true)
'
# a line of [ingest.frobnicator.dependency]|what the broker log must say
while IFS='|' read line message; do
	test_expect_success "[ingest.frobnicator.dependency] $line is refused, naming the key" '
		load_config_with <<-EOT &&
		[ingest.frobnicator.dependency]
		$line
		EOT
		test_must_fail flux submit true 2>refused.err &&
		flux dmesg -H | grep -F "[ingest.frobnicator.dependency]" >refused.log &&
		test_debug "cat refused.log" &&
		grep -F "$message" refused.log &&
		flux dmesg -C
	'
done <<'EOF_CONFIG'
mtach = "all"|[ingest.frobnicator.dependency]: unknown key 'mtach'
match = "newest"|[ingest.frobnicator.dependency] match: expected "latest" or "all", got 'newest'
max-matches = 0|[ingest.frobnicator.dependency] max-matches: expected a positive integer, got 0
max-matches = "10"|[ingest.frobnicator.dependency] max-matches: expected a positive integer, got "10"
index = "yes"|[ingest.frobnicator.dependency] index: expected true or false, got "yes"
EOF_CONFIG
test_expect_success 'a good configuration is accepted again' '
	broker_config_from_source | flux config load &&
	flux submit --urgency=hold --dependency=afterok:task-2 true
'
test_expect_success 'the jobspec records which name or pattern gave which ids' '
	id=$(flux submit --urgency=hold --dependency="afterok:stage1-*" \
		--setattr=dependency.name=task-2 true) &&
	flux job info $id jobspec | jq -c .attributes.system.dependency >record.out &&
	test_debug "cat record.out" &&
	jq -e ".resolved == [ \
		{\"scheme\": \"afterok\", \"name\": \"task-2\", \"match\": \"latest\", \
		 \"ids\": [\"$task2\"]}, \
		{\"scheme\": \"afterok\", \"name\": \"stage1-*\", \"match\": \"latest\", \
		 \"ids\": [\"$s1\", \"$s2\", \"$s3\"]}]" record.out
'
test_expect_success 'cancel all jobs' '
	flux cancel --all
'
test_done
