#!/usr/bin/env bash
# System packages the Tauri example (examples/tauri-app) needs on Debian/Ubuntu: WebKitGTK 4.1 and
# its headers for the webview, librsvg/appindicator for the tray/icons Tauri links, and Xvfb so the
# smoke test can open a window without a display. Idempotent: installs only what is missing.
set -euo pipefail

packages=(build-essential pkg-config libssl-dev libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev xvfb xauth)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "tauri setup: missing ${missing[*]} and no apt-get here; install them with your system's package manager" >&2
    exit 1
  fi
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "tauri setup: missing ${missing[*]}; run as root or install sudo" >&2
      exit 1
    fi
    as_root=(sudo)
  fi
  echo "tauri setup: installing ${missing[*]}" >&2
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/cargo" ]; then
  echo "tauri setup: cargo not found; install Rust with rustup (https://rustup.rs), 1.77 or newer" >&2
  exit 1
fi
