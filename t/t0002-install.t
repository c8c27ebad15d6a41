#!/bin/sh

test_description='Test make install: the plugin lands where flux finds it

Installs into a DESTDIR, never into the system flux-core, and runs flux
with that tree ahead of its own Python tree.'

. /usr/share/sharness/sharness.sh

if test -z "$TOP_BUILDDIR"; then
	skip_all='TOP_BUILDDIR not set: run this test from make check'
	test_done
fi

grep -q "^RST2MAN = ." "$TOP_BUILDDIR/doc/Makefile" && test_set_prereq DOCS

test_expect_success 'make install honours DESTDIR' '
	make -s -C "$TOP_BUILDDIR" install DESTDIR="$PWD/destdir" >install.out &&
	find destdir -name dependency.py >installed &&
	test_debug "cat installed" &&
	test $(wc -l <installed) -eq 1
'
test_expect_success 'the plugin is installed in the frobnicator plugins of flux-core' '
	plugindir=$(flux python -c "import flux.job.frobnicator.plugins as p; print(list(p.__path__)[0])") &&
	test "$(cat installed)" = "destdir$plugindir/dependency.py"
'
test_expect_success DOCS 'the man page flux-dependency-name(7) is installed' '
	find destdir -path "*/share/man/man7/flux-dependency-name.7" >page &&
	test $(wc -l <page) -eq 1 &&
	grep "make Flux jobs depend on job names" "$(cat page)"
'
test_expect_success 'create a scratch copy of the flux Python package with the installed plugin' '
	pythondir=$(flux python -c "import flux, os; print(os.path.dirname(os.path.dirname(flux.__file__)))") &&
	mkdir scratch &&
	cp -rL "$pythondir/flux" scratch/ &&
	cp "$(cat installed)" scratch/flux/job/frobnicator/plugins/
'
test_expect_success 'flux job-frobnicator --list-plugins shows dependency' '
	FLUX_PYTHONPATH_PREPEND="$PWD/scratch" \
		flux job-frobnicator --list-plugins >list-plugins.out &&
	test_debug "cat list-plugins.out" &&
	grep "^dependency  *Translate dependency.name into a job id for dependency.afterok$" \
		list-plugins.out
'
test_expect_success 'broker.toml as shipped loads the installed plugin by name' '
	cat >sleepy.sh <<-EOT &&
	flux submit --job-name sleepy sleep 10 >sleepy.id &&
	flux submit --setattr=dependency.name=sleepy hostname >hostname.id &&
	flux jobs -a >jobs.out &&
	flux cancel --all
	EOT
	FLUX_PYTHONPATH_PREPEND="$PWD/scratch" \
		flux start -o --config="$SHARNESS_TEST_SRCDIR/../broker.toml" \
		sh ./sleepy.sh &&
	test_debug "cat jobs.out" &&
	grep "depends:after-success=$(cat sleepy.id)" jobs.out
'
test_done
