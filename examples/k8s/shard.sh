#!/bin/sh
# One shard of a blindspot dataset run inside a batch engine.
#   SHARD_COUNT          total number of shards N (= the Job's completions)
#   JOB_COMPLETION_INDEX 0-based shard index, set by Kubernetes for Indexed Jobs (AWS_BATCH_JOB_ARRAY_INDEX and
#                        SLURM_ARRAY_TASK_ID are accepted too)
#   DATA_REMOTE          rclone remote:path holding the run file's folders (gt/, model outputs), e.g. s3:bucket/cxr
#   RESULTS_REMOTE       rclone remote:path where every shard uploads its RESULTS files, e.g. s3:bucket/cxr-results
#   RUN_FILE             run file inside DATA_REMOTE (default run.yaml)
# Shards write disjoint files (part files and *.shard-K-of-N.* run files), so all of them upload to the same prefix;
# `blindspot analyze` and DuckDB/Polars/Spark read the union with no merge step.
set -eu
INDEX="${JOB_COMPLETION_INDEX:-${AWS_BATCH_JOB_ARRAY_INDEX:-${SLURM_ARRAY_TASK_ID:-}}}"
if [ -z "${INDEX}" ] || [ -z "${SHARD_COUNT:-}" ]; then
  echo "blindspot-shard: set SHARD_COUNT and JOB_COMPLETION_INDEX (0-based)" >&2
  exit 2
fi
K=$((INDEX + 1))
WORK="${WORK_DIR:-/work}"
mkdir -p "${WORK}/data" "${WORK}/RESULTS"
if [ -n "${DATA_REMOTE:-}" ]; then rclone copy --fast-list "${DATA_REMOTE}" "${WORK}/data"; fi
# Resumable: if the pod restarts on the same volume, the same command finishes only the missing pairs.
set +e
blindspot run --run-file "${WORK}/data/${RUN_FILE:-run.yaml}" --out "${WORK}/RESULTS" --shard "${K}/${SHARD_COUNT}" "$@"
CODE=$?
set -e
# Exit 1 = some pairs failed (listed in errors.shard-K-of-N.jsonl): still upload; 2 = usage error: stop here.
if [ "${CODE}" -ge 2 ]; then exit "${CODE}"; fi
if [ -n "${RESULTS_REMOTE:-}" ]; then rclone copy --exclude ".staging/**" "${WORK}/RESULTS" "${RESULTS_REMOTE}"; fi
exit "${CODE}"
