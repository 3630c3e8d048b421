#!/usr/bin/env bash
# Installs the Debian packages the voice tests use offline: espeak-ng (speech) and pocketsphinx + its US English model (STT).
# Idempotent: does nothing when they are already installed. Tests that need them skip themselves when they are missing,
# so a failed install (no package mirror) warns loudly instead of failing CI.
set -uo pipefail
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
for attempt in 1 2 3; do
  if $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    echo "voice-deps: installed ${missing[*]}"
    exit 0
  fi
  echo "voice-deps: attempt $attempt failed" >&2
  sleep $((attempt * 5))
done
echo "voice-deps: WARNING: could not install ${missing[*]}; the offline speech tests will be skipped" >&2
exit 0
