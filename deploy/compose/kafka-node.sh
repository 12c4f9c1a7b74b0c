#!/bin/sh
# One node of the compose file's three-node KRaft cluster (each node broker + controller), secured
# as deploy/kafka.sh secures its loopback cluster (docs/kafka.md, Security): clients authenticate
# with SASL/SCRAM-SHA-512, the controllers with SASL/PLAIN, KRaft's StandardAuthorizer with
# allow.everyone.if.no.acl.found=false decides, `admin` is the only super user. The admin's
# password and the cluster id come from compose secrets (deploy/compose/secrets.sh); the
# properties holding the password are written inside the container only (mode 0600).
# Runs in the apache/kafka image (POSIX sh); KAFKA_NODE_ID (1..3) names the node.
set -eu

id="${KAFKA_NODE_ID:?KAFKA_NODE_ID (1..3) is not set}"
password="$(cat /run/secrets/kafka_admin)"
cluster_id="$(cat /run/secrets/kafka_cluster_id)"
data=/var/lib/kafka/data
conf=/tmp/ledger-kafka/server.properties
admin_conf=/tmp/ledger-kafka/admin.properties
voters="1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093"

umask 077
mkdir -p /tmp/ledger-kafka "$data"
cat >"$conf" <<PROPS
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
listeners=SASL_PLAINTEXT://0.0.0.0:9092,CONTROLLER://0.0.0.0:9093
advertised.listeners=SASL_PLAINTEXT://kafka-$id:9092
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_PLAINTEXT
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$password";
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$password" user_admin="$password";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin
log.dirs=$data
num.partitions=1
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
unclean.leader.election.enable=false
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
PROPS
# For the health check (kafka-broker-api-versions.sh --command-config).
cat >"$admin_conf" <<PROPS
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$password";
PROPS

# First start: format with the shared cluster id and the admin's SCRAM credential (the brokers need
# it to talk to each other at all). Later starts keep their data.
if [ ! -f "$data/meta.properties" ]; then
    /opt/kafka/bin/kafka-storage.sh format -t "$cluster_id" -c "$conf" \
        --add-scram "SCRAM-SHA-512=[name=admin,password=$password]"
fi
exec /opt/kafka/bin/kafka-server-start.sh "$conf"
