#!/usr/bin/env bash
# The CI gate of action.yml (and docs/ci.md's GitLab job): verify the live estate once, write JUnit and
# SARIF whenever verify ran, and exit 0 to pass the gate, 1 to fail it (under MC_FAIL_UNDER percent, or
# without it any failing or error item: verify's 1, and its 3 for items in error alone), or 2 on a
# configuration or usage error (verify's 2: nothing was verified, no file is written).
#
# Reads: MC_CONFIG (default mission-control.toml), MC_ENVIRONMENT (default production), MC_FAIL_UNDER
# (optional percent), MC_RESULTS_DIR (default mission-control-results), MC_DATABASE_URL (default: a
# SQLite file in the results directory, so each run starts from the estate alone).
set -uo pipefail

config="${MC_CONFIG:-mission-control.toml}"
environment="${MC_ENVIRONMENT:-production}"
results="${MC_RESULTS_DIR:-mission-control-results}"
mkdir -p "$results"
export MC_DATABASE_URL="${MC_DATABASE_URL:-sqlite:///$(cd "$results" && pwd)/mission-control.db}"

gate=()
if [ -n "${MC_FAIL_UNDER:-}" ]; then
  gate=(--fail-under "$MC_FAIL_UNDER")
fi

mission-control verify --config "$config" --env "$environment" --format junit \
  --output "$results/junit.xml" "${gate[@]}"
verified=$?
case "$verified" in
  0) status=0 ;;
  1 | 3) status=1 ;; # 3: nothing fails, but some items could not be checked: not ready either
  *) exit "$verified" ;; # 2: the configuration or the command line is wrong; nothing was verified
esac
# The SARIF comes from the run just stored: no second pass over AWS.
mission-control report --env "$environment" --config "$config" --format sarif \
  --output "$results/mission-control.sarif" || exit 2
echo "mission-control: JUnit and SARIF in $results (verify exit $verified, gate exit $status)" >&2
exit "$status"
