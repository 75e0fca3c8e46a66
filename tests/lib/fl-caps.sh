#!/bin/sh
# The agent under exactly the DaemonSet's capabilities (make test-caps runs the quick
# end-to-end suite with FIRSTLIGHT pointing here): FL_CAPS_REAL is the binary, FL_CAPS
# the manifest's added capabilities (BPF,PERFMON,...). As root, the bounding set is cut to
# them before exec (uid 0's permitted set is the bounding set); a test that already runs
# as another user (t_errors' "not root") is left as it is. setpriv execs: same pid.
: "${FL_CAPS_REAL:?}" "${FL_CAPS:?}"
[ "$(id -u)" = 0 ] || exec "$FL_CAPS_REAL" "$@"
caps=$(echo "$FL_CAPS" | tr 'A-Z' 'a-z' | sed 's/\([a-z_]*\)/+\1/g')
exec setpriv --bounding-set "-all,$caps" --inh-caps -all "$FL_CAPS_REAL" "$@"
