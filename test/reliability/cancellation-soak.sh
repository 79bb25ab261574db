#!/usr/bin/env bash
# Runs the cancellation suite RUNS times in a row (default 20) while HOGS busy-loop processes
# (default 2, `node -e "for(;;){}"`) keep the CPU loaded, and writes one line per run to
# test-results/reliability/cancellation-soak.jsonl (rc, requests started after the cancel, requests
# the simulator read after it, the slowest stop of the node and the slowest finish of the engine,
# with their scenarios, and the most CPU a stop used). Exits non-zero if any run failed.
#   test/reliability/cancellation-soak.sh [RUNS] [HOGS]
set -u
cd "$(dirname "$0")/../.."
runs=${1:-20}
hogs=${2:-2}
out=test-results/reliability/cancellation-soak.jsonl
mkdir -p "$(dirname "$out")"
: >"$out"
pids=()
for _ in $(seq 1 "$hogs"); do
	node -e 'for(;;){}' &
	pids+=($!)
done
stop_hogs() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done; }
trap stop_hogs EXIT
failed=0
for run in $(seq 1 "$runs"); do
	npx jest test/reliability/cancellation.test.ts >"/tmp/truedy-cancel-soak.$run.log" 2>&1
	rc=$?
	[ "$rc" -eq 0 ] || failed=$((failed + 1))
	node -e '
		const r = require("./test-results/reliability/cancellation.json");
		const s = r.scenarios;
		const sum = (k) => s.reduce((n, x) => n + (x[k] || 0), 0);
		console.log(JSON.stringify({
			run: +process.argv[1], rc: +process.argv[2], load: require("os").loadavg()[0].toFixed(1),
			scenarios: s.length, requestsAfterCancel: sum("requestsAfterCancel"),
			arrivedAfterCancel: sum("arrivedAfterCancel"), oldEstimateAfterCancel: sum("oldEstimateAfterCancel"),
			slowestStopMs: Math.max(...s.map((x) => x.stoppedWithinMs)),
			slowestStop: s.reduce((a, x) => (x.stoppedWithinMs > a.stoppedWithinMs ? x : a)).name,
			slowestRunFinishMs: Math.max(...s.map((x) => x.runFinishedWithinMs)),
			slowestRunFinish: s.reduce((a, x) => (x.runFinishedWithinMs > a.runFinishedWithinMs ? x : a)).name,
			maxStopCpuMs: Math.max(...s.map((x) => x.stopCpuMs)),
		}));' "$run" "$rc" | tee -a "$out"
done
echo "cancellation soak: $((runs - failed))/$runs runs passed with $hogs CPU hogs" | tee -a "$out"
[ "$failed" -eq 0 ]
