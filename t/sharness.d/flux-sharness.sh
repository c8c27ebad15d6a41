#
#  Sharness extension: run a test file inside a real Flux instance.
#
#  Loaded by Debian's sharness (/usr/share/sharness/sharness.sh) from
#  t/sharness.d.  A test file calls
#
#    test_under_flux SIZE
#
#  after sourcing sharness.  The first time, the test file is started again
#  under `flux start --test-size=SIZE` with the project's broker.toml, in
#  which the "dependency" plugin is replaced by its file in this source
#  tree, so that the tests never need the plugin installed.  Inside the
#  instance the call returns and the tests run.
#

#  The plugin as it is in this source tree.
DEPENDENCY_PLUGIN="$(cd "$SHARNESS_TEST_SRCDIR/.." && pwd)/src/bindings/python/flux/job/frobnicator/plugins/dependency.py"
export DEPENDENCY_PLUGIN

#  Print the project's broker.toml with the plugin loaded from this tree.
broker_config_from_source() {
	sed "s|\"dependency\"|\"$DEPENDENCY_PLUGIN\"|" \
		"$SHARNESS_TEST_SRCDIR/../broker.toml"
}

test_under_flux() {
	size=${1:-1}
	if test -n "$TEST_UNDER_FLUX_ACTIVE"; then
		test_debug 'echo "running under flux instance $FLUX_URI"'
		return 0
	fi
	command -v flux >/dev/null 2>&1 ||
		error "flux not found: flux-core >= 0.88 must be installed and flux on PATH"
	conf="$SHARNESS_TEST_DIRECTORY/$this_test.broker.toml"
	broker_config_from_source >"$conf" ||
		error "cannot write broker config $conf"
	TEST_UNDER_FLUX_ACTIVE=t
	export TEST_UNDER_FLUX_ACTIVE debug verbose immediate
	cd "$SHARNESS_TEST_DIRECTORY" || error "cannot cd to $SHARNESS_TEST_DIRECTORY"
	exec flux start --test-size="$size" \
		-o,--config-path="$conf",-Slog-stderr-level=1 \
		sh "$SHARNESS_TEST_SRCDIR/$this_test.$SHARNESS_TEST_EXTENSION"
}

#  Submit a job as another user of the instance, USERID, with the arguments
#  of `flux submit`.  Without flux-security, only the instance owner's role
#  may submit a jobspec under a "none" signature, so the request is sent
#  with the owner role and the credentials (FLUX_HANDLE_USERID) of USERID:
#  the job-manager and job-list then know the job as USERID's.  The job is
#  held (urgency 0): another user's job cannot run in a test instance, which
#  has no IMP to switch users.
submit_as_user() {
	userid=$1
	shift
	flux submit --dry-run "$@" |
		flux python "$SHARNESS_TEST_SRCDIR/scripts/sign-none.py" "$userid" \
		>signed.$userid &&
	FLUX_HANDLE_USERID=$userid FLUX_HANDLE_ROLEMASK=0x1 \
		flux job submit --urgency=0 --flags=signed signed.$userid
}

#  Print the ids of the afterok dependencies that the dependency plugin
#  adds to a jobspec, as read by flux-job-frobnicator (JSON on stdin).
frob_afterok() {
	flux job-frobnicator --jobspec-only \
		--plugins="defaults,constraints,$DEPENDENCY_PLUGIN" |
		jq -r 'if .errnum == 0
		       then .data.attributes.system.dependencies[]
		            | select(.scheme == "afterok") | .value
		       else .errstr end'
}

#  Load the broker config of the tests, followed by the TOML on stdin, into
#  the running instance (flux config load replaces the whole config).
load_config_with() {
	{ broker_config_from_source && cat; } | flux config load
}

#  Print the "value" of each entry of a job's attributes.system.dependencies
#  as SCHEME:VALUE, one a line.
job_dependencies() {
	flux job info "$1" jobspec |
		jq -r '.attributes.system.dependencies[] | "\(.scheme):\(.value)"'
}
