#!/usr/bin/env bash
# Installs Mesa's software Vulkan driver (lavapipe) 25 from bookworm-backports, so Dawn finds a
# WebGPU adapter on a machine without a GPU. bookworm's own Mesa 22 gives no adapter.
set -euo pipefail
if ! command -v apt-get >/dev/null; then echo "install-lavapipe: no apt-get, skipping" >&2; exit 0; fi
src=/etc/apt/sources.list.d/bookworm-backports.sources
if [[ ! -f $src ]]; then
  cat > "$src" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >/dev/null
dpkg-query -W -f='mesa-vulkan-drivers ${Version}\n' mesa-vulkan-drivers
