# Sourced by the shell-script suites: `unavailable REASON` ends a suite that cannot run here
# (a program, a package or the shared data is missing) as skipped, exit 77 (the suite's
# SKIP_RETURN_CODE), and as failed under CI=true, as EDGELENS_REQUIRE does for Qt Test suites.
unavailable() {
    echo "$(basename "$0" .sh): $*" >&2
    if [[ "${CI:-}" == true ]]; then exit 1; fi
    exit 77
}
