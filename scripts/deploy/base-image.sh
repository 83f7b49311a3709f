#!/usr/bin/env bash
# Writes a local stand-in for the official Node 24 image (node:24-bookworm-slim) as a `docker load` archive, for
# machines that reach no container registry:
#
#   scripts/deploy/base-image.sh ARCH NODE_BINARY NODE_VERSION TAG OUT.tar      # ARCH: amd64 | arm64
#
# The root is a Debian bookworm minbase (scripts/deploy/debian-root.sh node-base-ARCH), slimmed like the official image
# (no docs, man pages, locales, apt lists), plus the given Node 24 binary as /usr/local/bin/node and npm in
# /usr/local/lib/node_modules/npm with its npm/npx links: the layout of the official image. One layer, with a
# config that names the architecture — `docker import --platform` is ignored by this engine (20.10), a loaded
# archive is not. The npm version is the host's (`npm pack npm@VERSION`, cached in $EDGEBRIDGE_DEPLOY_CACHE).
set -euo pipefail
arch=$1 node_bin=$2 node_version=$3 tag=$4 out=$5
here=$(cd "$(dirname "$0")" && pwd)
CACHE=${EDGEBRIDGE_DEPLOY_CACHE:-/var/cache/edgebridge-deploy}
log() { echo "== base-image: $*" >&2; }

# No ca-certificates: Node carries its own CA store, and its postinst takes minutes under qemu.
root=$("$here/debian-root.sh" "node-base-$arch" "$arch")
npm_version=$(npm --version)
npm_dir=$CACHE/npm-$npm_version
if [[ ! -e $npm_dir/package/bin/npm-cli.js ]]; then
  log "fetching npm@$npm_version"
  rm -rf "$npm_dir" && mkdir -p "$npm_dir"
  (cd "$npm_dir" && npm pack --silent "npm@$npm_version" >/dev/null && tar xzf npm-*.tgz && rm -f npm-*.tgz)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tree=$work/tree
mkdir -p "$tree"
# The cached root stays as debootstrap left it: the image's tree is a copy, slimmed.
cp -a "$root/." "$tree/"
rm -rf "$tree"/.complete "$tree"/usr/share/{doc,man,info,locale}/* "$tree"/var/lib/apt/lists/* "$tree"/var/cache/apt/* \
  "$tree"/var/log/*.log "$tree"/debootstrap
install -D -m 0755 "$node_bin" "$tree/usr/local/bin/node"
mkdir -p "$tree/usr/local/lib/node_modules"
cp -a "$npm_dir/package" "$tree/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$tree/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$tree/usr/local/bin/npx"

# A machine that reaches the npm registry only through a TLS-inspecting proxy trusts its CA by NODE_EXTRA_CA_CERTS:
# the stand-in base trusts what this machine trusts, so `npm ci` in the build works (the official image needs none).
env_ca=
if [[ -n ${NODE_EXTRA_CA_CERTS:-} && -f $NODE_EXTRA_CA_CERTS ]]; then
  install -D -m 0644 "$NODE_EXTRA_CA_CERTS" "$tree/etc/ssl/host-ca.crt"
  env_ca=',"NODE_EXTRA_CA_CERTS=/etc/ssl/host-ca.crt"'
fi

mkdir -p "$work/image"
tar -C "$tree" --numeric-owner -cf "$work/image/layer.tar" .
diff_id=sha256:$(sha256sum "$work/image/layer.tar" | cut -d' ' -f1)
created=$(date -u +%FT%TZ)
cat >"$work/image/config.json" <<JSON
{"architecture":"$arch","os":"linux","created":"$created",
 "config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","NODE_VERSION=${node_version#v}"$env_ca],"Cmd":["node"]},
 "rootfs":{"type":"layers","diff_ids":["$diff_id"]},
 "history":[{"created":"$created","created_by":"scripts/deploy/base-image.sh $arch (debootstrap bookworm minbase + node $node_version + npm $npm_version)"}]}
JSON
echo "[{\"Config\":\"config.json\",\"RepoTags\":[\"$tag\"],\"Layers\":[\"layer.tar\"]}]" >"$work/image/manifest.json"
tar -C "$work/image" -cf "$out" manifest.json config.json layer.tar
log "$tag ($arch, node $node_version, npm $npm_version): $(du -m "$out" | cut -f1) MB archive"
