# `make test-bench`: the bench's smoke run produced every workload and configuration,
# and firstlight recorded every process of its storm. Not a timing check. Prints the
# name of each check that failed, one per line: nothing when all hold.
.summary as $s | ($s.storm | map(.config)) as $c |
[
 ["storm ran base, firstlight and bpftrace", (($c | index("base")) != null and ($c | index("firstlight")) != null and ($c | index("bpftrace")) != null)],
 ["the sweep ran", (($s.sweep | length) > 0)],
 ["container churn ran", (($s.containers | length) > 1)],
 ["connect storm ran twice", (($s.connect | length) == 2)],
 ["udp burst ran", ($s.udp != null)],
 ["every held process recorded", ($s.hold.recorded == $s.hold.live)],
 ["long churn sampled", (($s.churn.samples | length) > 1)],
 ["firstlight recorded every exec and exit of its storm", ([$s.storm[] | select(.config == "firstlight") | .exec_recorded == .generated and .exit_recorded == .generated] == [true])],
 ["16 targets", ((.targets | length) == 16)],
 ["bare-ring ran in the storm with a kernel cost for fork, exec and exit, nothing lost",
  ([$s.storm[] | select(.config == "bare-ring") | (.kernel_ns | has("fork") and has("exec") and has("exit")) and .drops == 0] == [true])],
 ["firstlight's fork, exec and exit have a ratio to bare-ring", ([$s.reference[]? | .ratio != null] == [true, true, true])],
 ["firstlight+ship recorded every exec of its storm", ([$s.storm[] | select(.config == "firstlight+ship") | .exec_recorded == .generated] == [true])],
 ["the collector took records", ($s.collect.records > 0)],
 ["the shipping threads' CPU measured", (($s.ship_thread_us | length) > 0 and ($s.ship_thread_us | all(. > 0)))],
 ["the shipping threads' context switches counted", (($s.ship_ctxsw_per_message | length) > 0 and ($s.ship_ctxsw_per_message | all(. > 0)))],
 ["one publish's cost by size, back to back and after the linger", ($s.publish.back_to_back != null and $s.publish.after_linger != null)],
 ["the storm's shipped KiB per process", (($s.ship_kib_per_process // 0) > 0)],
 ["every shipped sweep run has a lag figure", ([$s.sweep[] | select(.config == "firstlight+ship") | .ship_lag_p99_s != null] | all)]
] | .[] | select(.[1] != true) | .[0]
