# X_AC_FLUX_CORE(MIN-VERSION)
# ---------------------------
# Find the installed flux-core with pkg-config and stop with a clear
# message when it is missing or too old.  A flux(1) on PATH may name the
# prefix whose pkg-config file to use.  Sets and substitutes:
#
#   FLUX                        the flux(1) command of that flux-core
#   FLUX_CORE_VERSION           its version
#   FLUX_PYTHON                 the Python interpreter it runs
#   FLUX_FROBNICATOR_PLUGINDIR  where its job-frobnicator loads plugins
#
AC_DEFUN([X_AC_FLUX_CORE], [
    AC_PATH_PROG([FLUX_ON_PATH], [flux])
    AS_IF([test -n "$FLUX_ON_PATH"], [
        flux_prefix_guess=$(dirname $(dirname "$FLUX_ON_PATH"))
        PKG_CONFIG_PATH="${flux_prefix_guess}/lib64/pkgconfig:${flux_prefix_guess}/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
        export PKG_CONFIG_PATH
    ])
    PKG_CHECK_MODULES([FLUX_CORE], [flux-core >= $1], [], [
        AC_MSG_ERROR([flux-core >= $1 is required but was not found.
    Install flux-core (https://github.com/flux-framework/flux-core) and make
    sure its flux-core.pc is on PKG_CONFIG_PATH or its flux(1) on PATH.
    pkg-config said: $FLUX_CORE_PKG_ERRORS])
    ])
    FLUX_CORE_VERSION=$($PKG_CONFIG --modversion flux-core)
    flux_core_prefix=$($PKG_CONFIG --variable=prefix flux-core)
    AC_PATH_PROG([FLUX], [flux], [], [$flux_core_prefix/bin])
    AS_IF([test -z "$FLUX"],
          [AC_MSG_ERROR([flux-core $FLUX_CORE_VERSION found by pkg-config, but no flux(1) in $flux_core_prefix/bin])])

    AC_MSG_CHECKING([for the Python interpreter of flux-core])
    FLUX_PYTHON=$($FLUX python -c 'import sys; print(sys.executable)' 2>/dev/null)
    AS_IF([test -z "$FLUX_PYTHON"],
          [AC_MSG_ERROR([$FLUX python failed: flux-core was built without its Python bindings?])])
    AC_MSG_RESULT([$FLUX_PYTHON])

    AC_MSG_CHECKING([where flux-core loads frobnicator plugins])
    FLUX_FROBNICATOR_PLUGINDIR=$($FLUX python -c 'import flux.job.frobnicator.plugins as p; print(list(p.__path__)[[0]])' 2>/dev/null)
    AS_IF([test -z "$FLUX_FROBNICATOR_PLUGINDIR"],
          [AC_MSG_ERROR([cannot find the flux.job.frobnicator.plugins package of flux-core $FLUX_CORE_VERSION])])
    AC_MSG_RESULT([$FLUX_FROBNICATOR_PLUGINDIR])

    FLUX_BINDIR=$(dirname "$FLUX")
    AC_SUBST([FLUX])
    AC_SUBST([FLUX_BINDIR])
    AC_SUBST([FLUX_CORE_VERSION])
    AC_SUBST([FLUX_PYTHON])
    AC_SUBST([FLUX_FROBNICATOR_PLUGINDIR])
])
