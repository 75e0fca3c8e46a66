#!/usr/bin/env bash
# quick
# t_store_lying_disk with an fsync interval: batches are synced several at a time, and a
# batch is handed to shipping only at the sync that stored it (a copy waits until then),
# so a failed sync cuts none that the collector holds.
LYING_AGENT_ARGS="--fsync-ms 400" . "$(dirname "$0")/t_store_lying_disk.sh"
