# `make test-bench`: the bench's smoke run produced every workload and configuration,
# and firstlight recorded every process of its storm. Not a timing check.
.summary as $s | ($s.storm | map(.config)) as $c |
($c | index("base")) != null and ($c | index("firstlight")) != null and ($c | index("bpftrace")) != null and
($s.sweep | length) > 0 and ($s.containers | length) > 1 and ($s.connect | length) == 2 and
$s.udp != null and $s.hold.recorded == $s.hold.live and ($s.churn.samples | length) > 1 and
([$s.storm[] | select(.config == "firstlight") | .exec_recorded == .generated and .exit_recorded == .generated] == [true]) and
(.targets | length) == 12 and
([$s.storm[] | select(.config == "firstlight+ship") | .exec_recorded == .generated] == [true]) and
$s.collect.records > 0 and ($s.ship_thread_us | length) > 0 and ($s.ship_thread_us | all(. > 0)) and
([$s.sweep[] | select(.config == "firstlight+ship") | .ship_lag_p99_s != null] | all)
