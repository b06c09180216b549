#!/usr/bin/env bash
# Steady, bounded load on an endpoint of a local sidecar, for trying rollouts
# and experiments: RATE requests a second for SECONDS seconds, each from a
# different customer (x-user-id), with rows of the customer-churn sample.
#   examples/load.sh ENDPOINT [SECONDS=60] [RATE=50] [URL=http://127.0.0.1:8080]
set -euo pipefail
endpoint=${1:?usage: examples/load.sh ENDPOINT [SECONDS] [RATE] [URL]}
seconds=${2:-60}
rate=${3:-50}
url=${4:-http://127.0.0.1:8080}
row() {  # tenure monthly_charges total_charges contract payment
  printf '{"inputs": [{"name": "tenure", "shape": [1, 1], "datatype": "FP32", "data": [%s]},'\
' {"name": "monthly_charges", "shape": [1, 1], "datatype": "FP32", "data": [%s]},'\
' {"name": "total_charges", "shape": [1, 1], "datatype": "FP32", "data": [%s]},'\
' {"name": "contract_type", "shape": [1, 1], "datatype": "BYTES", "data": ["%s"]},'\
' {"name": "payment_method", "shape": [1, 1], "datatype": "BYTES", "data": ["%s"]}]}' "$@"
}
rows=("$(row 24 90 2160 'One year' 'Bank transfer (automatic)')"
      "$(row 12 50 600 'Month-to-month' 'Electronic check')"
      "$(row 48 70 3360 'Two year' 'Credit card (automatic)')")
codes=$(mktemp)
trap 'rm -f "$codes"' EXIT
for ((s = 0; s < seconds; s++)); do
  start=$(date +%s%N)
  for ((i = 0; i < rate; i++)); do
    n=$((s * rate + i))
    curl -s -o /dev/null -w '%{http_code}\n' -H 'content-type: application/json' -H "x-user-id: user-$n" \
      -d "${rows[$((n % 3))]}" "$url/v2/models/$endpoint/infer" >> "$codes" &
  done
  wait
  elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
  (( elapsed < 1000 )) && sleep "0.$(printf '%03d' $((1000 - elapsed)))"
done
echo "load on $endpoint done; answers by HTTP status: $(sort "$codes" | uniq -c | awk '{printf "%s=%s ", $2, $1}')"
