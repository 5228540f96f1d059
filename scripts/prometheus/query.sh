#!/usr/bin/env bash
# Instant PromQL query against the Prometheus of scripts/prometheus/run.sh; prints `labels value` lines.
# Usage: scripts/prometheus/query.sh '<promql>' [port (default 9090)]
set -euo pipefail
QUERY=${1:?usage: query.sh '<promql>' [port]}
PORT=${2:-9090}
curl -sfG "http://127.0.0.1:$PORT/api/v1/query" --data-urlencode "query=$QUERY" |
  node -e 'let s="";process.stdin.on("data",c=>s+=c).on("end",()=>{const r=JSON.parse(s);if(r.status!=="success"){console.error(r.error);process.exit(1)}for(const x of r.data.result)console.log(JSON.stringify(x.metric),x.value[1])})'
