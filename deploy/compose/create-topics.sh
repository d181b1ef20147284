#!/usr/bin/env bash
# Creates every topic cjo reads or writes, as a worker would create it, before any worker starts
# (docker-compose.yml's `topics` job; run it against any cluster with BOOTSTRAP and PARTITIONS).
# Existing topics are left alone. tests/deploy/test_topics.py checks this list against cjo's.
set -euo pipefail
BOOTSTRAP=${BOOTSTRAP:-kafka:19092}
PARTITIONS=${PARTITIONS:-8}     # CJO_PARTITIONS: fixed for the life of the topics
REPLICATION=${REPLICATION:-1}
PREFIX=${PREFIX:-cjo}           # CJO_TOPIC_PREFIX
APP_ID=${APP_ID:-cjo}           # CJO_APP_ID
TOPICS=${KAFKA_TOPICS:-/opt/kafka/bin/kafka-topics.sh}

create() {  # name partitions [--config k=v ...]
  local name=$1 partitions=$2
  shift 2
  "$TOPICS" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic "$name" \
    --partitions "$partitions" --replication-factor "$REPLICATION" "$@"
}

# inputs, outputs and ticks: CJO_PARTITIONS each, co-partitioned by IMSI (murmur2)
for suffix in events.charging events.location events.usage subscribers offers.responses \
              decisions dlq outcomes offers.push offers.sms offers.email ticks; do
  create "$PREFIX.$suffix" "$PARTITIONS"
done
# the state table's changelog (faust's name): as many partitions as the inputs, compacted
create "$APP_ID-subscriber-state-changelog" "$PARTITIONS" --config cleanup.policy=compact
create "$APP_ID-__assignor-__leader" 1
# control topics: one partition; the catalogue, models and do-not-contact list compacted
create "$PREFIX.learning" 1
for suffix in catalogue models dnc; do
  create "$PREFIX.$suffix" 1 --config cleanup.policy=compact
done
"$TOPICS" --bootstrap-server "$BOOTSTRAP" --list
