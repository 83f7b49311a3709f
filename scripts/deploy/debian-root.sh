#!/usr/bin/env bash
# Builds (once) a Debian bookworm root with debootstrap and prints its path. Used by test:systemd (a root that
# boots systemd under systemd-nspawn) and test:container (the local base images).
#
#   scripts/deploy/debian-root.sh NAME ARCH [PACKAGE,...] [APT_PACKAGE ...]    # → $EDGEBRIDGE_DEPLOY_CACHE/roots/NAME
#
# PACKAGE,... go to debootstrap --include; APT_PACKAGE ... are installed afterwards by apt-get inside the root
# (debootstrap's own resolver leaves Debian's npm, with its ~300 node-* dependencies, unconfigured).
# EDGEBRIDGE_DEPLOY_CACHE (default /var/cache/edgebridge-deploy) is kept between runs: a root is built only when its
# .complete marker is missing (measured here: amd64 minbase + systemd 30 s, 241 MB; arm64 second stage under qemu
# 70 s). The mirror is the one this machine's apt uses. Needs root.
set -euo pipefail
name=$1 arch=$2 include=${3:-}
shift 3 || shift $#
extra=("$@")
CACHE=${EDGEBRIDGE_DEPLOY_CACHE:-/var/cache/edgebridge-deploy}
root=$CACHE/roots/$name
log() { echo "== debian-root: $*" >&2; }

mkdir -p "$CACHE/roots"
exec 9>"$CACHE/roots/.$name.lock"
flock 9
if [[ -e $root/.complete ]]; then echo "$root"; exit 0; fi

export DEBIAN_FRONTEND=noninteractive
if ! command -v debootstrap >/dev/null; then
  log "installing debootstrap"
  apt-get update -qq && apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi
mirror=$(sed -n 's/^URIs: *\(\S*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
[[ -n $mirror ]] || mirror=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
[[ -n $mirror ]] || { echo "debian-root: no Debian mirror found in /etc/apt" >&2; exit 1; }

rm -rf "$root"
start=$SECONDS
args=(--variant=minbase --arch="$arch")
[[ -n $include ]] && args+=(--include="$include")
if [[ $arch == "$(dpkg --print-architecture)" ]]; then
  log "debootstrap $arch bookworm ($include) from $mirror"
  debootstrap "${args[@]}" bookworm "$root" "$mirror" >"$CACHE/roots/$name.log" 2>&1 ||
    { tail -n 20 "$CACHE/roots/$name.log" >&2; exit 1; }
else
  # A foreign architecture: first stage here, second stage under qemu-user-static through binfmt_misc.
  [[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]] || { echo "debian-root: aarch64 is not registered in binfmt_misc" >&2; exit 1; }
  log "debootstrap --foreign $arch bookworm ($include) from $mirror, second stage under qemu"
  debootstrap "${args[@]}" --foreign bookworm "$root" "$mirror" >"$CACHE/roots/$name.log" 2>&1 ||
    { tail -n 20 "$CACHE/roots/$name.log" >&2; exit 1; }
  chroot "$root" /debootstrap/debootstrap --second-stage >>"$CACHE/roots/$name.log" 2>&1 ||
    { tail -n 20 "$CACHE/roots/$name.log" >&2; exit 1; }
fi
if ((${#extra[@]} > 0)); then
  log "apt-get install ${extra[*]} in the root"
  { chroot "$root" apt-get update -qq &&
    chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${extra[@]}"; } \
    >>"$CACHE/roots/$name.log" 2>&1 || { tail -n 20 "$CACHE/roots/$name.log" >&2; exit 1; }
fi
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
touch "$root/.complete"
log "$name ready in $((SECONDS - start)) s, $(du -sm "$root" | cut -f1) MB"
echo "$root"
