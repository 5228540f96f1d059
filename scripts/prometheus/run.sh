#!/usr/bin/env bash
# Run a real Prometheus (Debian `prometheus`) against the proxies of a running `meshwork up`.
# `meshwork up` writes <data-dir>/prometheus/prometheus.yml and targets.json (file_sd: every proxy's admin
# /metrics, labelled proxy/role/service/version).
#
# Usage: scripts/prometheus/run.sh [data-dir (default .meshwork)] [port (default 9090)]
# Then e.g.:
#   scripts/prometheus/query.sh 'sum by (destination) (rate(meshwork_requests_total[30s]))'
set -euo pipefail
DATA_DIR=${1:-.meshwork}
PORT=${2:-9090}
CONFIG="$DATA_DIR/prometheus/prometheus.yml"
if [ ! -f "$CONFIG" ]; then
  echo "no $CONFIG: start the mesh first (meshwork up --data-dir $DATA_DIR)" >&2
  exit 1
fi
exec prometheus --config.file="$CONFIG" --storage.tsdb.path="$DATA_DIR/prometheus/data" \
  --web.listen-address="127.0.0.1:$PORT" --log.level=warn
