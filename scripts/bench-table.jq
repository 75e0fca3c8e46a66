# scripts/bench.sh's JSON file to the markdown it prints (and docs/benchmark.md quotes).
def v: if . == null then "—" else tostring end;
def ratio($n): if . == null then "—" else "\(.)/\($n)" end;
def kns: if . == null or . == {} then "—" else to_entries | map("\(.key) \(.value)") | join(", ") end;
def row: "| " + (map(v) | join(" | ")) + " |";

.summary as $s | .params as $p | .smoke as $smoke_run |
"## firstlight benchmark, \(.date)\(if .smoke then " (smoke run: numbers not meaningful)" else "" end)",
"",
"machine: \(.machine.cpu), \(.machine.cores) cores, \(.machine.memory_mib) MiB, kernel \(.machine.kernel), \(.machine.os); load average \(.machine.loadavg_at_start) at start, \(.machine.loadavg_at_end) at the end",
"versions: \(.machine.versions | to_entries | map("\(.key) \(.value)") | join("; "))",
"command: `\(.command)`",
"",
(([.targets[] | select(.target | startswith("agent CPU <= 5 us"))][0].result) as $agent |
 ([$s.storm[] | select(.config == "firstlight")][0]) as $f | ([$s.storm[] | select(.config == "bare-ring")][0]) as $b |
 if ($s.reference // [] | map(select(.ratio != null)) | length) > 0 then
"### Per-event cost (issue 20): firstlight against the bare-ring reference, in the same exec storm rounds",
"",
"| event | firstlight kernel ns | bare-ring kernel ns | ratio (median of rounds) | rounds' ratios | target | result |",
"|---|---|---|---|---|---|---|",
($s.reference[] | . as $x | [.event, .firstlight_ns, .bare_ns, (if .ratio == null then null else "\(.ratio)x" end),
	(.ratios | map(tostring) | join(", ")), "<= \(.limit)x",
	(if .ratio == null then "not judged" elif $smoke_run then "not judged (smoke run)" elif .ratio <= .limit then "PASS" else "MISS" end)] | row),
"",
"agent CPU per process lifecycle (fork, exec, exit written, sealed, signed, synced per batch): \($f.cpu_ms_per_1k // "—") us per process generated (target <= 5 us: \($agent)); \($f.cpu_ms_per_1k_recorded // "—") us per lifecycle recorded (the agent also records the machine's other processes); the bare-ring consumer's: \($b.cpu_ms_per_1k // "—") us per process generated",
"" else empty end),
(if ($s.storm | length) > 0 then
"### Exec storm: \($p.processes) x fork+exec+wait of /bin/true, \($p.workers) workers, \($p.rounds) alternating rounds (medians)",
"",
"| configuration | wall s | wall ratio | exec recorded | exit recorded | drops admitted | sensor CPU ms / 1k proc | BPF ms / 1k proc | kernel ns per event | peak RSS MiB | latency p50 / p99 ms |",
"|---|---|---|---|---|---|---|---|---|---|---|",
($s.storm[] | .generated as $g | [.config, .wall_s, .wall_ratio, (.exec_recorded | ratio($g)), (.exit_recorded | ratio($g)),
	.drops, .cpu_ms_per_1k, .bpf_ms_per_1k, (.kernel_ns | kns), .rss_mib,
	(if .lat_p50_ms == null then null else "\(.lat_p50_ms) / \(.lat_p99_ms)" end)] | row),
"" else empty end),
(if ($s.sweep | length) > 0 then
"### Fixed-rate sweep: \($p.sweep_seconds) s per rate, \($p.sweep_rounds) rounds (medians); CPU as % of one core",
"",
"| rate /s | configuration | achieved /s | sensor processes % | BPF programs % | total % | exec recorded | latency p99 ms |",
"|---|---|---|---|---|---|---|---|",
($s.sweep[] | .generated as $g | [.rate, .config, .achieved_rate, .cpu_pct, .bpf_pct, .total_pct, (.exec_recorded | ratio($g)), .lat_p99_ms] | row),
"" else empty end),
(if ($s.containers | length) > 0 then
"### Container churn: \($p.containers) runc containers (create, start, wait, delete) back to back, \($p.rounds) rounds (medians)",
"",
"| configuration | wall s | wall ratio | container exec recorded | container exit recorded | drops admitted | sensor CPU ms per container | BPF ms per container | peak RSS MiB | latency p50 / p99 ms |",
"|---|---|---|---|---|---|---|---|---|---|",
($s.containers[] | .generated as $g | [.config, .wall_s, .wall_ratio, (.exec_recorded | ratio($g)), (.exit_recorded | ratio($g)),
	.drops, .cpu_ms_per_item, .bpf_ms_per_item, .rss_mib,
	(if .lat_p50_ms == null then null else "\(.lat_p50_ms) / \(.lat_p99_ms)" end)] | row),
"" else empty end),
(if ($s.connect | length) > 0 then
"### Connect storm: \($p.connect_pairs) loopback TCP connect/close pairs, \($p.workers) workers, \($p.rounds) rounds (medians); the peers' configurations record no network events",
"",
"| configuration | wall s | wall ratio | connect / accept / close recorded | drops admitted | agent CPU ms / 1k pairs | BPF ns per pair |",
"|---|---|---|---|---|---|---|",
($s.connect[] | [.config, .wall_s, .wall_ratio,
	(if .flows then "\(.flows.connect)/\(.flows.accept)/\(.flows.close) of \(.generated)/\(.generated)/\(2 * .generated)" else null end),
	.drops, .cpu_ms_per_1k, (if .bpf_ms_per_1k == null then null else .bpf_ms_per_1k * 1000 | round end)] | row),
(if $s.udp then "", "UDP: \($s.udp.datagrams) datagrams at \($s.udp.per_s)/s, \($s.udp.kernel_ns_per_datagram) ns of BPF per datagram (sendmsg4 hook + sock_send_length)" else empty end),
"" else empty end),
(if ($s.files // [] | length) > 0 then
"### File opens: \($s.files[0].opens) openat calls by one process, of a file not watched and of a watched one (/etc/shadow), \($p.rounds) rounds (medians); target: at most 200 ns of BPF per non-watched open",
"",
"| open | BPF ns per open | wall s base / firstlight | wall ratio | opens recorded |",
"|---|---|---|---|---|",
($s.files[] | [.open, .bpf_ns_per_open, "\(.base_wall_s) / \(.firstlight_wall_s)", .wall_ratio, .opens_recorded] | row),
"" else empty end),
(if ($s.fair_extra_ns_pairs | length) > 0 then
"### Fairness: the exec storm under two agents at once, ring shares on (the defaults) and off",
"",
"kernel ns per fork/exec/exit event added by the shares, per round: \($s.fair_extra_ns_pairs | map("\(.) ns") | join(", "))",
"" else empty end),
(if $s.collect or ($s.ship_extra_us_pairs | length) > 0 then
"### Shipping (firstlight+ship: the same agent with --ship to nats-server -js on loopback)",
"",
"shipping threads' CPU per process in the exec storm, per round: \($s.ship_thread_us | map("\(.) us") | join(", ")) (per batch acked: \($s.ship_thread_us_per_batch | map("\(.) us") | join(", ")))",
"",
"whole agent, firstlight+ship minus firstlight in the same round (noisier): \($s.ship_extra_us_pairs | map("\(.) us") | join(", "))",
"",
"shipping lag p99 (batch written -> acked; a histogram bucket's bound): \([$s.sweep[] | select(.config == "firstlight+ship") | "\(.rate)/s <= \(.ship_lag_p99_s) s"] | join(", "))",
"",
(if $s.collect then "collector: \($s.collect.records) records in \($s.collect.batches) batches in \($s.collect.wall_s) s: \($s.collect.records_per_s) records/s (CPU \($s.collect.cpu_ms) ms)" else empty end),
"" else empty end),
(if $s.hold then
"### Live processes: agent memory with \($s.hold.live) sleeping processes tracked",
"",
"agent RSS \($s.hold.rss_before_mib) MiB before, \($s.hold.rss_mib) MiB with them, peak \($s.hold.peak_rss_mib) MiB; \($s.hold.recorded) of \($s.hold.live) recorded",
"" else empty end),
(if $s.churn then
"### Long churn: \($s.churn.seconds) s of 100 exec/s and runc containers back to back (\($s.churn.containers) containers)",
"",
"agent RSS (KiB) sampled: \($s.churn.samples | map("\(.[0])s \(.[1])") | join(", "))",
"",
"peak in the first half \($s.churn.rss_first_half_max_kib) KiB, in the second half \($s.churn.rss_second_half_max_kib) KiB (growth \($s.churn.growth_kib) KiB)",
"" else empty end),
"### Targets (issues 7 and 20)",
"",
"| target | measured | result |",
"|---|---|---|",
(.targets[] | [.target, .measured, .result] | row),
"",
"commands:",
(.commands[] | "- `\(.)`")
