#!/bin/sh
# `make test-repeat`: runs $PYTEST $N times while stress-ng ($STRESS) keeps the cores busy, and writes
# one line per run (exit status, time, load, pytest's summary) plus each failing run's FAILED/ERROR
# lines to the log named by $1. Exits non-zero when any run failed.
set -u
log=$1
: > "$log"
echo "test-repeat: $N runs of: $PYTEST" | tee -a "$log"
echo "under: stress-ng $STRESS on $(nproc) cores; started $(date -u +%Y-%m-%dT%H:%M:%SZ)" | tee -a "$log"
stress-ng $STRESS --quiet &
stress=$!
trap 'kill $stress 2>/dev/null; wait $stress 2>/dev/null' EXIT
trap 'exit 130' INT TERM
failed=0
i=1
while [ "$i" -le "$N" ]; do
  out=$(mktemp)
  start=$(date +%s)
  $PYTEST -p no:cacheprovider > "$out" 2>&1
  rc=$?
  took=$(( $(date +%s) - start ))
  summary=$(grep -E "(passed|failed|error)" "$out" | tail -n 1)
  echo "run $i: exit $rc in ${took}s, load $(cut -d' ' -f1-3 /proc/loadavg): $summary" | tee -a "$log"
  if [ "$rc" -ne 0 ]; then
    failed=$((failed + 1))
    grep -E "^(FAILED|ERROR) tests/" "$out" | sed 's/^/    /' | tee -a "$log"
    cp "$out" "$log.run$i"
  fi
  rm -f "$out"
  i=$((i + 1))
done
echo "test-repeat: $failed of $N runs failed (full output of a failed run: $log.runN)" | tee -a "$log"
[ "$failed" -eq 0 ]
