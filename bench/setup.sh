#!/usr/bin/env bash
# Installs what bench/loadgen.py compares against: Debian's nginx-light and wrk,
# and autocannon from npm into bench/.node (a local folder, not global). Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")"

need_apt=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_apt+=(nginx-light)
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
if ((${#need_apt[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
if [ ! -x .node/node_modules/.bin/autocannon ]; then
  mkdir -p .node
  npm install --silent --no-audit --no-fund --prefix .node autocannon@8 >/dev/null
fi
echo '*' > .node/.gitignore  # installed tools are not part of the repository
echo "nginx: $(/usr/sbin/nginx -v 2>&1)"
echo "wrk: $(wrk -v 2>&1 | head -1)"
echo "autocannon: $(.node/node_modules/.bin/autocannon --version 2>&1 | head -1)"
