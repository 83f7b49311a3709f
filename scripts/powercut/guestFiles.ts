/**
 * The text files of the guest: the initramfs's /init (loads the virtio modules, mounts the root disk), the root
 * disk's /sbin/init (network, data disk, Mosquitto, Redis, the gateway) and the servers' configuration.
 * Per-run settings come from the kernel command line (`eb.ack=…`), so one cached root image serves every mode.
 */

/** Load order matters: virtio_ring before virtio, the PCI transport before the devices (the cloud kernel has them as modules). */
export const VIRTIO_MODULES = [
  'drivers/virtio/virtio_ring',
  'drivers/virtio/virtio',
  'drivers/virtio/virtio_pci_legacy_dev',
  'drivers/virtio/virtio_pci_modern_dev',
  'drivers/virtio/virtio_pci',
  'drivers/block/virtio_blk',
  'net/core/failover',
  'drivers/net/net_failover',
  'drivers/net/virtio_net',
] as const;

/** The guest's console says these, the host waits for them (see Vm). */
export const MARK = {
  dataMounted: 'EB-DATA-MOUNTED',
  gatewayExit: 'EB-GATEWAY-EXIT',
  fail: 'EB-FAIL',
} as const;

export function initramfsInit(): string {
  const modules = VIRTIO_MODULES.map((m) => `/lib/modules/${m.split('/').pop()}.ko`).join(' ');
  return `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /newroot
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs dev /dev
for m in ${modules}; do /bin/busybox insmod $m || echo "${MARK.fail} insmod $m"; done
i=0
while [ ! -b /dev/vda ] || [ ! -b /dev/vdb ]; do
  i=$((i + 1)); [ $i -gt 100 ] && { echo "${MARK.fail} no /dev/vda or /dev/vdb"; /bin/busybox poweroff -f; }
  /bin/busybox sleep 0.05
done
/bin/busybox mount -t ext4 -o ro /dev/vda /newroot || { echo "${MARK.fail} root mount"; /bin/busybox poweroff -f; }
/bin/busybox mount --move /dev /newroot/dev
/bin/busybox umount /proc
exec /bin/busybox switch_root /newroot /sbin/init
`;
}

/** The systemd unit's heap limits, as deployed on a Pi. */
const NODE_OPTIONS = '--max-old-space-size=96 --max-semi-space-size=2';

export function rootInit(): string {
  return `#!/bin/sh
export PATH=/bin:/usr/bin:/usr/sbin:/opt/node/bin
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
echo 1 > /proc/sys/vm/overcommit_memory
ACK=write; TAP=0; FSYNC_MS=200
for arg in $(cat /proc/cmdline); do
  case $arg in
    eb.ack=*) ACK=\${arg#eb.ack=} ;;
    eb.tap=*) TAP=\${arg#eb.tap=} ;;
    eb.fsyncms=*) FSYNC_MS=\${arg#eb.fsyncms=} ;;
  esac
done
ip link set lo up
ip addr add 10.0.2.15/24 dev eth0
ip link set eth0 up
ip route add default via 10.0.2.2
# The data disk: ext4 replays its journal here, exactly as after a power cut on a Pi.
mount -t ext4 -o noatime /dev/vdb /data || { echo "${MARK.fail} data mount"; poweroff -f; }
echo "${MARK.dataMounted}"
mkdir -p /data/mosquitto /data/redis /data/spool
chown -R mosquitto:mosquitto /data/mosquitto
mosquitto -c /etc/mosquitto.conf &
redis-server --bind 0.0.0.0 --port 6379 --protected-mode no --dir /data/redis --appendonly yes --appendfsync always --save "" --daemonize no --loglevel warning &
export NODE_OPTIONS="${NODE_OPTIONS}"
export EDGEBRIDGE_GATEWAY_ID=powercut
export EDGEBRIDGE_MQTT_URL=mqtt://10.0.2.2:$TAP
export EDGEBRIDGE_MQTT_RECONNECT_MIN_MS=200 EDGEBRIDGE_MQTT_RECONNECT_MAX_MS=2000
export EDGEBRIDGE_INFLUX_ENABLED=false
export EDGEBRIDGE_REDIS_URL=redis://127.0.0.1:6379 EDGEBRIDGE_REDIS_STREAM_MAX_LEN=100000000
export EDGEBRIDGE_REDIS_RESILIENCE_RETRY_INITIAL_MS=200 EDGEBRIDGE_REDIS_RESILIENCE_RETRY_MAX_MS=2000
export EDGEBRIDGE_SPOOL_DIR=/data/spool EDGEBRIDGE_SPOOL_ACK=$ACK EDGEBRIDGE_SPOOL_FSYNC_INTERVAL_MS=$FSYNC_MS
export EDGEBRIDGE_HTTP_HOST=0.0.0.0 EDGEBRIDGE_HTTP_PORT=8080 EDGEBRIDGE_LOG_LEVEL=warn
cd /opt/edgebridge
while true; do
  node dist/main.js
  echo "${MARK.gatewayExit} $?"
  sleep 1
done
`;
}

/** Persistence on (saved every second: Mosquitto 2.0 writes its database only on autosave and at exit). */
export function mosquittoConf(): string {
  return `listener 1883 0.0.0.0
allow_anonymous true
user mosquitto
persistence true
persistence_location /data/mosquitto/
autosave_interval 1
max_queued_messages 0
max_queued_bytes 0
max_inflight_messages 100
log_dest stdout
log_type error
log_type warning
`;
}

export function passwd(): { passwd: string; group: string } {
  return {
    passwd: 'root:x:0:0:root:/root:/bin/sh\nmosquitto:x:101:101:mosquitto:/data/mosquitto:/bin/false\n',
    group: 'root:x:0:\nmosquitto:x:101:\n',
  };
}
