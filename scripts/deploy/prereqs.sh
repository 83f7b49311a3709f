#!/usr/bin/env bash
# Installs the Debian packages the deployment tests need, if missing (a fresh machine has none of them):
#
#   scripts/deploy/prereqs.sh systemd      # systemd-nspawn, nsenter, debootstrap
#   scripts/deploy/prereqs.sh container    # dockerd + docker CLI, debootstrap, qemu-user-static, binfmt-support
#
# The packages' own services are not started (policy-rc.d exits 101 during the install; one this script created is
# removed again). Needs root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
case ${1:-} in
  systemd) want=(systemd-nspawn:systemd-container nsenter:util-linux debootstrap:debootstrap) ;;
  container) want=(dockerd:docker.io debootstrap:debootstrap qemu-aarch64-static:qemu-user-static update-binfmts:binfmt-support) ;;
  *) echo "usage: $0 systemd|container" >&2; exit 2 ;;
esac
missing=()
for pair in "${want[@]}"; do
  command -v "${pair%%:*}" >/dev/null || [[ -x /usr/sbin/${pair%%:*} ]] || missing+=("${pair#*:}")
done
((${#missing[@]} == 0)) && exit 0
echo "== prereqs: installing ${missing[*]}" >&2
created_policy=0
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && created_policy=1
fi
trap 'if ((created_policy)); then rm -f /usr/sbin/policy-rc.d; fi' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
