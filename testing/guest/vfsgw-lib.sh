# Helpers for guest scripts (sourced before the script runs). Each prints one console line that
# io.vfsgw.testvm.GuestVm parses into a GuestReport.Result.

# vfsgw_result NAME ok|fail DETAIL...: reports one outcome; the detail is folded onto one line.
vfsgw_result() {
    _n=$1 _s=$2
    shift 2
    echo "VFSGW-RESULT $_n $_s $(printf '%s' "$*" | tr '\r\n' '  ' | cut -c1-4000)"
}

# check NAME CMD ARGS...: runs CMD; reports ok with its output, or fail with its exit status and
# output. Returns CMD's exit status, so `check ... || exit 1` stops a script at the first failure.
check() {
    _name=$1
    shift
    if _out=$("$@" 2>&1); then
        vfsgw_result "$_name" ok "$_out"
        return 0
    else
        _rc=$?
        vfsgw_result "$_name" fail "rc=$_rc $_out"
        return $_rc
    fi
}

# expect NAME EXPECTED CMD ARGS...: runs CMD; ok when its output equals EXPECTED exactly.
expect() {
    _name=$1 _want=$2
    shift 2
    _out=$("$@" 2>&1)
    _rc=$?
    if [ $_rc -eq 0 ] && [ "$_out" = "$_want" ]; then
        vfsgw_result "$_name" ok "$_out"
        return 0
    fi
    vfsgw_result "$_name" fail "rc=$_rc want [$_want] got [$_out]"
    return 1
}

# result NAME ok|fail DETAIL...: the short spelling of vfsgw_result for scripts.
result() { vfsgw_result "$@"; }
