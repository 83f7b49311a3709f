#!/usr/bin/env bash
# Installs the built gateway as a systemd service. Run from a checkout after `npm ci && npm run build`, as root,
# on the machine that will run it (the bundled Node 24 is the one `npm ci` fetched for this architecture):
#
#   sudo scripts/install.sh                    # then: systemctl enable --now edgebridge
#   DESTDIR=/tmp/stage scripts/install.sh      # stage into a directory (packaging, tests); touches nothing else
#
# Layout (under $DESTDIR):
#   /opt/edgebridge/{dist,config,package.json,package-lock.json,README.md,docs}
#   /opt/edgebridge/node_modules/              production dependencies (npm ci --omit=dev)
#   /opt/edgebridge/node_modules/node/bin/node  the project's Node 24 binary (ExecStart)
#   /etc/systemd/system/edgebridge.service
#   /etc/edgebridge/edgebridge.json            starter config; an existing one is never overwritten
#   /etc/edgebridge/credentials/{mqtt_password,influx_token,redis_password,redis_sentinel_password}   root 0600; created empty if absent
#
# Upgrades: run it again. The app directory is replaced as a whole (the previous one is kept as
# /opt/edgebridge.previous until the next upgrade); config, credentials and the spool (/var/lib/edgebridge) stay.
#
# EDGEBRIDGE_NODE=/usr/bin/node: use that Node (must be 24 or newer) in ExecStart instead of bundling one.
set -euo pipefail
umask 022
cd "$(dirname "$0")/.."
SRC=$PWD
DESTDIR=${DESTDIR:-}
APP=/opt/edgebridge
UNIT_DIR=/etc/systemd/system
CONF_DIR=/etc/edgebridge
CREDENTIALS=(mqtt_password influx_token redis_password redis_sentinel_password)

say() { echo "install: $*"; }
die() { echo "install: $*" >&2; exit 1; }

[[ -f dist/bundle/edgebridge.mjs ]] || die "dist/bundle/edgebridge.mjs is missing: run 'npm ci && npm run build' first"
command -v npm >/dev/null || die "npm is required (it installs the production dependencies)"

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# 1. The application, staged next to its final place, then swapped in.
stage=$DESTDIR$APP.new
rm -rf "$stage"
mkdir -p "$stage"
cp -a dist config package.json package-lock.json README.md docs "$stage/"
say "installing production dependencies into $APP"
(cd "$stage" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error >/dev/null)

# 2. Node 24: the project's pinned one (node_modules/node, the `node` devDependency), or EDGEBRIDGE_NODE.
if [[ -n ${EDGEBRIDGE_NODE:-} ]]; then
  node_bin=$EDGEBRIDGE_NODE
  if [[ -z $DESTDIR ]]; then
    (($(node_major "$node_bin") >= 24)) || die "EDGEBRIDGE_NODE=$node_bin is not Node 24 or newer"
  fi
  check_node=$node_bin
else
  [[ -x node_modules/node/bin/node ]] || die "node_modules/node is missing: run 'npm ci' (it installs Node 24)"
  (($(node_major node_modules/node/bin/node) >= 24)) || die "node_modules/node is not Node 24"
  # Only the binary (and its licence): the package also holds headers and docs a gateway does not need.
  install -d "$stage/node_modules/node/bin"
  install -m 0755 node_modules/node/bin/node "$stage/node_modules/node/bin/node"
  cp node_modules/node/package.json "$stage/node_modules/node/"
  for f in node_modules/node/node_modules/node-linux-*/LICENSE; do [[ -f $f ]] && cp "$f" "$stage/node_modules/node/LICENSE"; done
  node_bin=$APP/node_modules/node/bin/node
  check_node=$DESTDIR$node_bin
fi

if [[ -d $DESTDIR$APP ]]; then
  rm -rf "$DESTDIR$APP.previous"
  mv "$DESTDIR$APP" "$DESTDIR$APP.previous"
fi
mv "$stage" "$DESTDIR$APP"
[[ -x $check_node ]] || check_node=$(command -v node)

# 3. The unit.
install -D -m 0644 systemd/edgebridge.service "$DESTDIR$UNIT_DIR/edgebridge.service"
if [[ $node_bin != "$APP/node_modules/node/bin/node" ]]; then
  sed -i "s|^ExecStart=$APP/node_modules/node/bin/node |ExecStart=$node_bin |" "$DESTDIR$UNIT_DIR/edgebridge.service"
fi

# 4. Config (readable by the service's dynamic user; no secrets in it) and credentials (root only).
install -d -m 0755 "$DESTDIR$CONF_DIR"
config=$DESTDIR$CONF_DIR/edgebridge.json
if [[ -e $config ]]; then
  say "keeping the existing $CONF_DIR/edgebridge.json"
else
  cat >"$config" <<'JSON'
{
  "mqtt": {
    "url": "mqtt://127.0.0.1:1883",
    "subscriptions": [{ "topic": "sensors/#", "qos": 1 }]
  },
  "sinks": {
    "influx": { "url": "http://127.0.0.1:8086", "org": "edgebridge", "bucket": "edgebridge" },
    "redis": { "url": "redis://127.0.0.1:6379" }
  },
  "http": { "port": 8080 }
}
JSON
  chmod 0644 "$config"
  say "wrote a starter $CONF_DIR/edgebridge.json: edit the URLs, then check it with check-config"
fi
install -d -m 0700 "$DESTDIR$CONF_DIR/credentials"
for name in "${CREDENTIALS[@]}"; do
  file=$DESTDIR$CONF_DIR/credentials/$name
  if [[ ! -e $file ]]; then
    install -m 0600 /dev/null "$file"
  fi
done

# 5. Check what was installed with the Node the unit will run.
"$check_node" "$DESTDIR$APP/dist/bundle/edgebridge.mjs" check-config --config "$config" >/dev/null ||
  say "WARNING: check-config failed for $CONF_DIR/edgebridge.json (see above); fix it before starting"

if [[ -z $DESTDIR ]] && [[ -d /run/systemd/system ]]; then
  systemctl daemon-reload
  say "installed $("$check_node" "$APP/dist/bundle/edgebridge.mjs" --version). Next:"
  say "  secrets:  printf %s 'TOKEN' > $CONF_DIR/credentials/influx_token   (likewise mqtt_password, redis_password)"
  say "  start:    systemctl enable --now edgebridge && journalctl -u edgebridge -f"
  say "  upgrade:  rerun this script, then systemctl restart edgebridge"
else
  say "installed into ${DESTDIR:-/} (systemd not reloaded)"
fi
