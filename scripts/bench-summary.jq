# scripts/bench.sh's results (one JSON object per measured run, slurped) to the JSON
# file: the runs as measured, medians per workload and configuration, and each target of
# issues 7 and 20 judged PASS or MISS (or "not judged" on a smoke run or too few rounds).
# Inputs: $machine $date $cmd $cmds $smoke $params.

def median: map(select(. != null)) | sort |
	if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
	else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def r(n): if . == null then null else (. * pow(10; n) | round) / pow(10; n) end;
# A program's event class: the lifecycle programs only (fl_fork, fl_exec, fl_exec_bounded,
# fl_exit, fl_exit_legacy; bare-ring's bare_*; bpftrace's bt_*), never a program that
# merely has "exit" in its name (fl_file_exit_openat, fl_priv_exit_*, fl_socket_exit run
# once per syscall and would dilute the exit figure).
def class: (capture("^(fl|bare|bt)_(?<c>fork|exec|exit)(_|$)") | .c) // null;
# ns per run of a run's programs, by event class
def kernel_ns: [.progs[] | {c: (.name | class), ns, cnt} | select(.c != null)] |
	group_by(.c) | map({key: .[0].c, value: (([.[].ns] | add) / ([.[].cnt] | add))}) | from_entries;

. as $runs |
def base_wall($w; $round): [$runs[] | select(.workload == $w and .config == "base" and .round == $round) | .wall_s][0];
def per_config($w):
	[$runs[] | select(.workload == $w)] | group_by(.config) | map(
		. as $rs | $rs[0].config as $c | {
		config: $c,
		rounds: length,
		generated: $rs[0].generated,
		wall_s: ([$rs[].wall_s] | median | r(3)),
		wall_ratio: (if $c == "base" then 1 else
			[$rs[] | . as $x | base_wall($w; $x.round) as $b | if $b then $x.wall_s / $b else null end] | median | r(3) end),
		wall_ratio_pairs: (if $c == "base" then null else
			[$rs[] | . as $x | base_wall($w; $x.round) as $b | if $b then ($x.wall_s / $b | r(3)) else empty end] end),
		exec_recorded: (if $rs[0].execs == null then null else ([$rs[].execs] | min) end),
		exit_recorded: (if $rs[0].exits == null then null else ([$rs[].exits] | min) end),
		drops: (if $rs[0].drops == null then null else ([$rs[].drops] | max) end),
		cpu_ms_per_1k: ([$rs[] | select(.cpu_ns != null) | .cpu_ns / .generated / 1e3] | median | r(2)),
		bpf_ms_per_1k: ([$rs[] | select(.bpf_ns != null) | .bpf_ns / .generated / 1e3] | median | r(2)),
		# the agent records every process of the machine, not only the workload's: its CPU
		# per lifecycle it recorded (fork + exec + exit records / 3), beside the figure
		# per process generated
		cpu_ms_per_1k_recorded: (if $c == "firstlight" or $c == "firstlight+ship" then
			[$rs[] | select(.cpu_ns != null and .lat_n > 0) | .cpu_ns / (.lat_n / 3) / 1e3] | median | r(2) else null end),
		cpu_ms_per_item: ([$rs[] | select(.cpu_ns != null) | .cpu_ns / .generated / 1e6] | median | r(2)),
		bpf_ms_per_item: ([$rs[] | select(.bpf_ns != null) | .bpf_ns / .generated / 1e6] | median | r(3)),
		kernel_ns: ([$rs[] | kernel_ns] as $k | [$k[] | keys[]] | unique |
			map({key: ., value: ([$k[][.]] | median | r(0))}) | from_entries),
		rss_mib: ([$rs[].rss_kib] | median | if . then . / 1024 | r(1) else null end),
		lat_p50_ms: ([$rs[].lat_p50_ms] | median | r(1)),
		lat_p99_ms: ([$rs[].lat_p99_ms] | median | r(1)),
		ship_lag_p99_s: ([$rs[].ship_lag_p99_s] | median)
	} + (if $w == "connect" then {flows: ([$rs[] | select(.flows) | .flows] | min_by(.connect + .accept + .close))} else {} end));
def order: {base: 0, "bare-ring": 1, firstlight: 2, "firstlight+ship": 3, bpftrace: 4, auditd: 5, forkstat: 6}[.config] // 9;
# What shipping adds to the agent's CPU per process (us): firstlight+ship minus firstlight,
# each storm round against the same round's firstlight run (alternating, same load).
# What the ring shares add to the kernel's cost per event (ns): per round, for fork, exec
# and exit, ns per run of the agent with the shares on minus the one without (both
# attached during the same storm), averaged over the three; a round's two storms (one
# in each attach order, which biases the difference either way) averaged.
def fair_extra_ns:
	[$runs[] | select(.workload == "fair") | {round: .round, d: ((.progs_on | map({key: (.name | class), value: .ns_per_run}) |
		map(select(.key != null)) | from_entries) as $on |
	 (.progs_off | map({key: (.name | class), value: .ns_per_run}) | map(select(.key != null)) | from_entries) as $off |
	 [["fork", "exec", "exit"][] | select($on[.] != null and $off[.] != null) | $on[.] - $off[.]] |
	 if length > 0 then add / length else null end)} | select(.d != null)] |
	group_by(.round) | map(map(.d) | add / length);
# firstlight's kernel cost per fork, exec and exit event against the bare-ring
# reference's same event in the same storm round (alternating, so the machine's speed at
# that moment cancels): each round's ratio, and the median of the rounds' ratios.
def reference_ratios:
	[$runs[] | select(.workload == "storm" and .config == "firstlight") | . as $f |
	 [$runs[] | select(.workload == "storm" and .config == "bare-ring" and .round == $f.round)][0] as $b |
	 select($b != null) | {round: $f.round, fl: ($f | kernel_ns), bare: ($b | kernel_ns)}] as $pairs |
	["fork", "exec", "exit"] | map(. as $c |
		[$pairs[] | select(.fl[$c] != null and .bare[$c] != null and .bare[$c] > 0)] as $p |
		{event: $c,
		 firstlight_ns: ([$p[].fl[$c]] | median | r(0)),
		 bare_ns: ([$p[].bare[$c]] | median | r(0)),
		 ratios: [$p[] | .fl[$c] / .bare[$c] | r(2)],
		 ratio: ([$p[] | .fl[$c] / .bare[$c]] | median | r(2)),
		 limit: (if $c == "exec" then 3 else 1.25 end)});
def ship_extra_us($w):
	[$runs[] | select(.workload == $w and .config == "firstlight+ship" and .cpu_ns != null) | . as $x |
	 [$runs[] | select(.workload == $w and .config == "firstlight" and .round == $x.round and .cpu_ns != null)][0] as $f |
	 if $f then ($x.cpu_ns / $x.generated - $f.cpu_ns / $f.generated) / 1e3 else empty end];
# A sensor's CPU in the sweep split in two: a cost per second whatever the rate (timers,
# a batch sealed, signed and synced per flush) and a cost per process, by least squares
# over every sweep run of the configuration (CPU ns per second of the run against the
# processes per second it reached). The per-process part is what the machine's speed,
# not its reachable rate, sets: a slow machine's storm divides the per-second part by
# few processes. $field: the run's CPU field (cpu_ns: the sensor's; ship_cpu_ns: its
# shipping threads').
def cost_split($c; $field):
	[$runs[] | select(.workload == "sweep" and .config == $c and .[$field] != null and .window_s > 0 and .wall_s > 0) |
	 [.generated / .wall_s, .[$field] / .window_s]] as $pts |
	($pts | length) as $n |
	if $n < 2 then null else
		($pts | map(.[0]) | add / $n) as $mx | ($pts | map(.[1]) | add / $n) as $my |
		($pts | map((.[0] - $mx) * (.[1] - $my)) | add) as $sxy |
		($pts | map((.[0] - $mx) * (.[0] - $mx)) | add) as $sxx |
		if $sxx <= 0 then null else
			($sxy / $sxx) as $b | ($my - $b * $mx) as $a |
			{runs: $n, rates_reached: ($pts | map(.[0] | r(0)) | unique),
			 ms_per_s: ($a / 1e6 | r(2)), us_per_process: ($b / 1e3 | r(2)),
			 us_per_process_at_1600: (($a / 1600 + $b) / 1e3 | r(2)),
			 us_per_process_at_3300: (($a / 3300 + $b) / 1e3 | r(2))}
		end
	end;
# What one publish costs (fl-pubcost) after a pause of $pause ms: the median CPU per
# publish by size (KiB), in size order. Not a line: past the socket's and the server's
# read buffers (64 KiB) a message takes more sends and wake-ups, each KiB costs more.
def publish_points($pause):
	[$runs[] | select(.workload == "publish" and .pause_ms == $pause) | {kib: (.size / 1024), us: .cpu_us_median}] |
	sort_by(.kib) | if length == 0 then null else . end;
# A publish's cost at $kib, read off the points: between two, on the line through them;
# past the last, on the line through the last two; below the first, the first's.
def publish_at($pts; $kib):
	if $pts == null then null
	elif ($pts | length) == 1 or $kib <= $pts[0].kib then $pts[0].us
	else ([range(1; $pts | length) | select($pts[.].kib >= $kib)][0] // ($pts | length - 1)) as $i |
		$pts[$i - 1] as $p | $pts[$i] as $q |
		$p.us + ($q.us - $p.us) * ($kib - $p.kib) / ($q.kib - $p.kib)
	end;
# The shipping threads' CPU per process at a rate, from publishes after the linger: the
# messages a second (the storm's: the linger sets them, not the rate), each as large as
# the rate fills it (the KiB a process ships times the rate, over the messages), at what
# a publish of that size costs.
def ship_projection($pts; $msgs_per_s; $kib_per_process; $rate):
	if $pts == null or $msgs_per_s == null or $msgs_per_s <= 0 or $kib_per_process == null then null
	else ($kib_per_process * $rate / $msgs_per_s) as $kib | publish_at($pts; $kib) as $us |
		{rate: ($rate | r(0)), message_kib: ($kib | r(1)), us_per_message: ($us | r(0)),
		 us_per_process: ($msgs_per_s * $us / $rate | r(2))}
	end;

({
	storm: (per_config("storm") | sort_by(order)),
	agent_cost_split: cost_split("firstlight"; "cpu_ns"),
	ship_cost_split: cost_split("firstlight+ship"; "ship_cpu_ns"),
	sweep: ([$runs[] | select(.workload == "sweep")] | group_by(.rate) | map(
		.[0].rate as $rate | group_by(.config) | map(. as $rs | {
			rate: $rate, config: $rs[0].config, rounds: length,
			achieved_rate: ([$rs[] | .generated / .wall_s] | median | r(0)),
			cpu_pct: ([$rs[] | .cpu_ns / (.window_s * 1e9) * 100] | median | r(2)),
			bpf_pct: ([$rs[] | select(.bpf_ns != null) | .bpf_ns / (.window_s * 1e9) * 100] | median | r(2)),
			total_pct: ([$rs[] | ((.cpu_ns + (.bpf_ns // 0)) / (.window_s * 1e9) * 100)] | median | r(2)),
			exec_recorded: (if $rs[0].execs == null then null else ([$rs[].execs] | min) end),
			generated: $rs[0].generated,
			lat_p99_ms: ([$rs[].lat_p99_ms] | median | r(1)),
			ship_lag_p99_s: ([$rs[].ship_lag_p99_s] | median)
		}) | sort_by(order)) | flatten),
	ship_extra_us_pairs: (ship_extra_us("storm") | map(r(2))),
	# the shipping threads' own CPU per process generated, per round (us)
	ship_thread_us: ([$runs[] | select(.workload == "storm" and .ship_cpu_ns != null) | .ship_cpu_ns / .generated / 1e3 | r(2)]),
	ship_thread_us_per_batch: ([$runs[] | select(.workload == "storm" and .ship_cpu_ns != null and (.ship_acked // 0) > 0) |
		.ship_cpu_ns / .ship_acked / 1e3 | r(0)]),
	# a message's cost, and how many the storm took a second: the cost per process is
	# their product over the rate, so it falls as the rate rises
	ship_thread_us_per_message: ([$runs[] | select(.workload == "storm" and .ship_cpu_ns != null and (.ship_messages // 0) > 0) |
		.ship_cpu_ns / .ship_messages / 1e3 | r(0)]),
	# the shipping threads' voluntary context switches per message: its waits, whatever the machine
	ship_ctxsw_per_message: ([$runs[] | select(.workload == "storm" and .ship_ctxsw != null and (.ship_messages // 0) > 0) |
		.ship_ctxsw / .ship_messages | r(1)]),
	ship_messages_per_s: ([$runs[] | select(.workload == "storm" and (.ship_messages // 0) > 0 and .wall_s > 0) |
		.ship_messages / .wall_s | r(1)]),
	# what a process of the storm ships: the messages' bytes (compressed, the machine's other
	# records with them) per process generated
	ship_kib_per_process: ([$runs[] | select(.workload == "storm" and .ship_message_bytes != null and .generated > 0) |
		.ship_message_bytes / 1024 / .generated] | median | r(3)),
	publish: {back_to_back: publish_points(0), after_linger: publish_points(500)},
	# the shipping threads' CPU per process at each fixed rate of the sweep (us)
	ship_sweep_us: ([$runs[] | select(.workload == "sweep" and .ship_cpu_ns != null and .generated > 0)] | group_by(.rate) |
		map({rate: .[0].rate, achieved: ([.[] | .generated / .wall_s] | median | r(0)), us: ([.[] | .ship_cpu_ns / .generated / 1e3] | median | r(2))})),
	fair_extra_ns_pairs: (fair_extra_ns | map(r(0))),
	reference: reference_ratios,
	collect: ([$runs[] | select(.workload == "collect") | {records: .generated, messages, wall_s: (.wall_s | r(3)),
		records_per_s: (.records_per_s | r(0)), cpu_ms: (.cpu_ns / 1e6 | r(0))}][0]),
	containers: (per_config("containers") | sort_by(order)),
	connect: (per_config("connect") | sort_by(order)),
	udp: ([$runs[] | select(.workload == "udp") | {datagrams: .generated, per_s: (.generated / .wall_s | r(0)),
		kernel_ns_per_datagram: (.bpf_ns / .generated | r(0))}][0]),
	files: ([$runs[] | select(.workload | startswith("files-"))] | group_by(.workload) | map(. as $rs |
		{open: ($rs[0].workload | ltrimstr("files-")), opens: $rs[0].generated,
		 base_wall_s: ([$rs[] | select(.config == "base") | .wall_s] | median | r(3)),
		 firstlight_wall_s: ([$rs[] | select(.config == "firstlight") | .wall_s] | median | r(3)),
		 bpf_ns_per_open: ([$rs[] | select(.config == "firstlight" and .ns_per_open != null) | .ns_per_open] | median | r(0)),
		 opens_recorded: ([$rs[] | select(.config == "firstlight") | .opens_recorded] | median)}) |
		map(.wall_ratio = (if .base_wall_s and .base_wall_s > 0 and .firstlight_wall_s then .firstlight_wall_s / .base_wall_s | r(3) else null end))),
	hold: ([$runs[] | select(.workload == "hold") | {live: .generated, recorded: .execs,
		rss_before_mib: (.rss_before_kib / 1024 | r(1)), rss_mib: (.rss_kib_now / 1024 | r(1)),
		peak_rss_mib: (.rss_kib / 1024 | r(1))}][0]),
	churn: ([$runs[] | select(.workload == "churn") | del(.workload, .config, .round)][0])
} | (.ship_messages_per_s | median) as $m
  | ([.storm[] | select(.config == "firstlight+ship") | .generated / .wall_s][0] // null) as $rate
  | .publish.at_storm_rate = (if $rate then ship_projection(.publish.after_linger; $m; .ship_kib_per_process; $rate) else null end)
  | .publish.at_1600 = ship_projection(.publish.after_linger; $m; .ship_kib_per_process; 1600)
) as $s |

def fl($list): [$list[]? | select(.config == "firstlight")][0];
def sweep($rate; $c): [$s.sweep[] | select(.rate == $rate and .config == $c)][0];
def ref($c): [$s.reference[] | select(.event == $c)][0];
# The split, said after a storm figure; judged is the storm's figure, as measured.
def split_text($x): if $x == null then "" else "; from the sweep (\($x.runs) runs, \($x.rates_reached | map(tostring) | join("/")) processes/s reached): \($x.ms_per_s) ms per second whatever the rate + \($x.us_per_process) us per process, which would be \($x.us_per_process_at_1600) us per process at 1,600/s and \($x.us_per_process_at_3300) at 3,300/s (not measured: where the machine reaches the rate)" end;
# The parts of a publish, said after the shipping target's storm figure.
def points_text($pts): $pts | map("\(.kib | r(0)) KiB \(.us | r(0)) us") | join(", ");
def projection_text($x): if $x == null then "-" else "\($x.us_per_process) us per process at \($x.rate)/s (messages of \($x.message_kib) KiB, \($x.us_per_message) us each)" end;
def publish_text($p): if $p.after_linger == null then "" else "; one publish without the storm (fl-pubcost) after the linger's pause: \(points_text($p.after_linger)), which with the storm's messages a second and KiB per process gives \(projection_text($p.at_storm_rate)) and \(projection_text($p.at_1600)) (projected)" end;
def judged($cond; $ok): if $smoke == 1 then "not judged (smoke run)" elif ($cond | not) then "not judged" elif $ok then "PASS" else "MISS" end;

(fl($s.storm)) as $fs | ref("fork") as $rf | ref("exec") as $re | ref("exit") as $rx |
def refmeasured($x): "\($x.event) \($x.ratio)x (\($x.firstlight_ns) / \($x.bare_ns) ns; rounds: \($x.ratios | map(tostring) | join(", ")))"; ($s.fair_extra_ns_pairs | median | r(0)) as $fx | (sweep(1600; "firstlight+ship")) as $sw | ($s.ship_extra_us_pairs | median | r(2)) as $sx | ($s.ship_thread_us | median | r(2)) as $st | (sweep(1600; "firstlight")) as $fw | (sweep(1600; "auditd")) as $aw | (sweep(1600; "bpftrace")) as $bw |
{
	date: $date, machine: $machine, command: $cmd, commands: ($cmds | split("\n") | map(select(length > 0))),
	params: $params, smoke: ($smoke == 1),
	summary: $s,
	targets: [
		{target: "exec storm: firstlight records 100% of exec and exit events",
		 measured: (if $fs then "exec \($fs.exec_recorded)/\($fs.generated), exit \($fs.exit_recorded)/\($fs.generated) (worst round)" else null end),
		 result: judged($fs != null; $fs.exec_recorded == $fs.generated and $fs.exit_recorded == $fs.generated)},
		{target: "exec storm: wall-time ratio to baseline <= 1.03 (median of >= 5 alternating pairs)",
		 measured: (if $fs then "\($fs.wall_ratio) (median of \($fs.wall_ratio_pairs | length) pairs: \($fs.wall_ratio_pairs | map(tostring) | join(", ")))" else null end),
		 result: judged($fs != null and ($fs.wall_ratio_pairs | length) >= 5; $fs.wall_ratio <= 1.03)},
		{target: "sweep at 1600 exec/s: firstlight CPU (agent + BPF) <= 2% of one core, below auditd and bpftrace",
		 measured: (if $fw then "firstlight \($fw.total_pct)%, auditd \($aw.total_pct // "-")%, bpftrace \($bw.total_pct // "-")%" else null end),
		 result: judged($fw != null and $aw != null and $bw != null;
			$fw.total_pct <= 2 and $fw.total_pct < $aw.total_pct and $fw.total_pct < $bw.total_pct)},
		{target: "kernel cost: <= 2 us per exec event (argv copy included)",
		 measured: (if $fs then "\($fs.kernel_ns.exec) ns" else null end),
		 result: judged($fs.kernel_ns.exec != null; $fs.kernel_ns.exec <= 2000)},
		{target: "kernel cost: <= 0.75 us per fork and per exit event",
		 measured: (if $fs then "fork \($fs.kernel_ns.fork) ns, exit \($fs.kernel_ns.exit) ns" else null end),
		 result: judged($fs.kernel_ns.fork != null and $fs.kernel_ns.exit != null;
			$fs.kernel_ns.fork <= 750 and $fs.kernel_ns.exit <= 750)},
		{target: "kernel cost per fork and per exit event <= 1.25x the bare-ring reference's same event in the same run (median of the rounds' ratios)",
		 measured: (if $rf.ratio != null and $rx.ratio != null then "\(refmeasured($rf)); \(refmeasured($rx))" else null end),
		 result: judged($rf.ratio != null and $rx.ratio != null; $rf.ratio <= 1.25 and $rx.ratio <= 1.25)},
		{target: "kernel cost per exec event <= 3x the bare-ring reference's exec in the same run (median of the rounds' ratios)",
		 measured: (if $re.ratio != null then refmeasured($re) else null end),
		 result: judged($re.ratio != null; $re.ratio <= 3)},
		{target: "agent CPU <= 5 us per process lifecycle (issue 20)",
		 measured: (if $fs.cpu_ms_per_1k != null then "\($fs.cpu_ms_per_1k) us per process (sensor CPU in the exec storm per process generated)\(split_text($s.agent_cost_split))" else null end),
		 result: judged($fs.cpu_ms_per_1k != null; $fs.cpu_ms_per_1k <= 5)},
		{target: "agent CPU <= 10 us per process lifecycle (10 ms per 1,000 processes)",
		 measured: (if $fs then "\($fs.cpu_ms_per_1k) ms per 1,000 processes" else null end),
		 result: judged($fs.cpu_ms_per_1k != null; $fs.cpu_ms_per_1k <= 10)},
		{target: "agent RSS <= 64 MiB with 10,000 live processes tracked",
		 measured: (if $s.hold then "peak \($s.hold.peak_rss_mib) MiB, \($s.hold.rss_mib) MiB with \($s.hold.live) live (\($s.hold.recorded) recorded)" else null end),
		 result: judged($s.hold != null and $s.hold.live >= 10000; $s.hold.peak_rss_mib <= 64)},
		{target: "no RSS growth over a 10-minute churn (second half's peak <= first half's + 1 MiB)",
		 measured: (if $s.churn then "\($s.churn.rss_first_half_max_kib) KiB then \($s.churn.rss_second_half_max_kib) KiB over \($s.churn.seconds) s" else null end),
		 result: judged($s.churn != null and $s.churn.seconds >= 600; $s.churn.growth_kib <= 1024)},
		{target: "latency kernel -> record written: p99 <= 250 ms at default flush settings",
		 measured: (if $fs then "exec storm p50 \($fs.lat_p50_ms) ms, p99 \($fs.lat_p99_ms) ms; 1600/s sweep p99 \($fw.lat_p99_ms // "-") ms" else null end),
		 result: judged($fs.lat_p99_ms != null; ([$fs.lat_p99_ms, ($fw.lat_p99_ms // 0)] | max) <= 250)},
		# judged on the shipping threads' own CPU: the difference of two runs' whole-agent
		# CPU (shown beside it) carries the noise of everything else the agent does
		{target: "shipping adds <= 1 us of agent CPU per process in the exec storm (the shipping threads' CPU per process)",
		 measured: (if $st != null then "\($st) us (median of \($s.ship_thread_us | length) rounds: \($s.ship_thread_us | map(tostring) | join(", ")); \($s.ship_thread_us_per_batch | median | r(0)) us per batch); whole agent, firstlight+ship minus firstlight in the same round: \($sx // "-") us\(split_text($s.ship_cost_split))\(publish_text($s.publish))" else null end),
		 result: judged($st != null; $st <= 1)},
		{target: "shipping lag (batch written -> acked by JetStream) p99 < 1 s at 1600 exec/s",
		 measured: (if $sw.ship_lag_p99_s != null then "p99 <= \($sw.ship_lag_p99_s) s (histogram bucket)" else null end),
		 result: judged($sw.ship_lag_p99_s != null; $sw.ship_lag_p99_s < 1)},
		{target: "fairness bookkeeping (ring shares and headroom) <= 150 ns per event in the kernel (two agents on the same storm, shares on minus off; fork/exec/exit)",
		 measured: (if $fx != null then "\($fx) ns (median of \($s.fair_extra_ns_pairs | length) rounds: \($s.fair_extra_ns_pairs | map(tostring) | join(", ")))" else null end),
		 result: judged($fx != null; $fx <= 150)},
		{target: "the collector ingests >= 50,000 records/s",
		 measured: (if $s.collect then "\($s.collect.records_per_s) records/s (\($s.collect.records) records in \($s.collect.messages) messages, \($s.collect.wall_s) s)" else null end),
		 result: judged($s.collect != null and $s.collect.records >= 10000; $s.collect.records_per_s >= 50000)}
	],
	runs: $runs
}
