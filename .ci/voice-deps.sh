#!/usr/bin/env bash
# Installs the Debian packages the voice tests use offline: espeak-ng (speech) and pocketsphinx + its US English model (STT).
# Idempotent: does nothing when they are already installed. Tests that need them skip themselves when they are missing.
set -euo pipefail
packages=(espeak-ng pocketsphinx pocketsphinx-en-us)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "voice-deps: ${packages[*]} already installed"
  exit 0
fi
echo "voice-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "voice-deps: installed ${missing[*]}"
