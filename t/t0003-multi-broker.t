#!/bin/sh

test_description='Test dependency.name on every broker rank

Each broker rank runs its own job-ingest and frobnicator workers; a name
must resolve the same through each of them.'

. /usr/share/sharness/sharness.sh

test_under_flux 4

test_expect_success 'the instance has four brokers' '
	test "$(flux getattr size)" -eq 4
'
for rank in 0 1 2 3; do
	next=$(( (rank + 1) % 4 ))
	test_expect_success "a job named through rank $rank is found through rank $next" "
		id=\$(flux exec -r $rank flux submit --urgency=hold --job-name=on-$rank true) &&
		dep=\$(flux exec -r $next flux submit --urgency=hold \
			--setattr=dependency.name=on-$rank true) &&
		flux job info \$dep jobspec \
			| jq -r '.attributes.system.dependencies[0].value' >on-$rank.value &&
		test \"\$(cat on-$rank.value)\" = \"\$id\"
	"
done
test_expect_success 'back to back through different ranks, no name is missed' '
	for i in $(seq 1 20); do
		r=$((i % 4)) && n=$(((i + 2) % 4)) &&
		id=$(flux exec -r $r flux submit --urgency=hold --job-name=hop-$i true) &&
		dep=$(flux exec -r $n flux submit --urgency=hold \
			--setattr=dependency.name=hop-$i true) &&
		flux job info $dep jobspec \
			| jq -r ".attributes.system.dependencies[0].value" >hop.value &&
		test "$(cat hop.value)" = "$id" || return 1
	done
'
test_expect_success 'a dependent job runs after its named job on another rank' '
	id=$(flux exec -r 3 flux submit --job-name=remote-run true) &&
	dep=$(flux exec -r 1 flux submit --setattr=dependency.name=remote-run true) &&
	flux job wait-event -t 30 $dep clean &&
	test "$(flux jobs -no {result} $dep)" = "COMPLETED"
'
test_expect_success 'cancel all jobs' '
	flux cancel --all
'
test_done
