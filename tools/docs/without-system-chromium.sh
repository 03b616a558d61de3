#!/usr/bin/env bash
# Runs a command as on a machine without a system Chromium: in a private mount namespace, Debian's
# chromium and the NSS/NSPR libraries it brings are covered by /dev/null (root and unshare needed;
# nothing changes outside the namespace). Used to check the browser test's fallback for real:
#
#   tools/docs/without-system-chromium.sh npm run docs:test      # the packaged Chromium is used
#   MINIRAY_HIDE_PACKAGED=1 tools/docs/without-system-chromium.sh npm run docs:test   # and hidden too
set -euo pipefail
if [[ $# -eq 0 ]]; then
  echo "usage: $0 COMMAND [ARGS...]" >&2
  exit 2
fi
exec unshare --mount --propagation private -- bash -c '
  set -euo pipefail
  hide() { for f in "$@"; do if [[ -e "$f" ]]; then mount --bind /dev/null "$f"; fi; done; }
  hide /usr/bin/chromium /usr/bin/chromium-browser /usr/lib/chromium/chromium
  for lib in libnss3 libnssutil3 libnspr4 libplc4 libplds4 libsmime3; do
    hide /usr/lib/*-linux-gnu/"$lib".so* /lib/*-linux-gnu/"$lib".so*
  done
  if [[ "${MINIRAY_HIDE_PACKAGED:-}" == 1 ]]; then
    root=$(dirname "$(node -p "require.resolve(\"playwright-core/package.json\")")")/..
    if [[ -d "$root/@sparticuz/chromium" ]]; then mount -t tmpfs none "$root/@sparticuz/chromium"; fi
    if [[ -d "$root/.cache/miniray-chromium" ]]; then mount -t tmpfs none "$root/.cache/miniray-chromium"; fi
  fi
  exec "$@"
' bash "$@"
