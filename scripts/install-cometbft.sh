#!/usr/bin/env bash
# Installs a pinned CometBFT tool into .bin/ with `go install`, unless a usable one is already there.
#   bash scripts/install-cometbft.sh            # cometbft (the node)
#   bash scripts/install-cometbft.sh abci-cli   # abci-cli, whose `kvstore` app is the throughput benchmark's peer
# Resolution order (for cometbft shared with src/cli/cometbft-bin.ts): $COMETBFT_BIN (or $ABCI_CLI_BIN),
# .bin/<tool>, <tool> on PATH. Prints the path of the binary it settled on as its last line.
set -euo pipefail
VERSION="0.38.25"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bindir="$root/.bin"

tool="${1:-cometbft}"
case "$tool" in
  cometbft) envvar=COMETBFT_BIN; pkg="github.com/cometbft/cometbft/cmd/cometbft"; name=CometBFT ;;
  abci-cli) envvar=ABCI_CLI_BIN; pkg="github.com/cometbft/cometbft/abci/cmd/abci-cli"; name="CometBFT's abci-cli" ;;
  *) echo "error: unknown tool '$tool' (want cometbft or abci-cli)" >&2; exit 2 ;;
esac

# `cometbft version` prints its version; `abci-cli version` prints the ABCI protocol's (2.0.0), so its
# CometBFT version is read from the Go build info in the binary (`go version -m`, or the same text with
# grep), which also names the package it was built from.
build_info() {
  if command -v go >/dev/null 2>&1; then go version -m "$1" 2>/dev/null || true
  else LC_ALL=C grep -a -o -E $'(path|mod)\t[^[:space:]]+(\tv[^[:space:]]+)?' "$1" 2>/dev/null || true; fi
}
version_of() {
  if [ "$tool" = cometbft ]; then "$1" version 2>/dev/null | head -n1 | tr -d '[:space:]'; return; fi
  build_info "$1" | awk -v pkg="$pkg" '$1 == "path" { ok = ($2 == pkg) } ok && $1 == "mod" && $2 == "github.com/cometbft/cometbft" { sub(/^v/, "", $3); print $3; exit }'
}
is_038() { case "$(version_of "$1")" in 0.38.*) return 0 ;; *) return 1 ;; esac; }

if [ -n "${!envvar:-}" ]; then
  given="${!envvar}"
  if [ -x "$given" ] && is_038 "$given"; then
    echo "using \$$envvar=$given (version $(version_of "$given"))" >&2
    echo "$given"; exit 0
  fi
  echo "error: \$$envvar=$given is not an executable $name 0.38.x (got '$(version_of "$given" || true)'); unset it or point it at a v0.38 binary" >&2
  exit 1
fi

if [ -x "$bindir/$tool" ] && [ "$(version_of "$bindir/$tool")" = "$VERSION" ]; then
  echo "$name $VERSION already installed in $bindir" >&2
  echo "$bindir/$tool"; exit 0
fi

if onpath="$(command -v "$tool" 2>/dev/null)" && is_038 "$onpath"; then
  echo "using $tool on PATH: $onpath (version $(version_of "$onpath"))" >&2
  echo "$onpath"; exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "error: Go is not installed, and no $name 0.38.x was found." >&2
  echo "  Install Go >= 1.22.11 (https://go.dev/doc/install, or your OS package) and re-run: bash scripts/install-cometbft.sh $tool" >&2
  echo "  or set $envvar to an existing $tool v0.38.x binary." >&2
  exit 1
fi

echo "installing $name v$VERSION with go install into $bindir (takes a few minutes the first time)" >&2
mkdir -p "$bindir"
GOBIN="$bindir" go install "$pkg@v$VERSION" >&2
got="$(version_of "$bindir/$tool")"
if [ "$got" != "$VERSION" ]; then
  echo "error: installed $tool reports version '$got', expected $VERSION" >&2
  exit 1
fi
echo "installed $name $got at $bindir/$tool" >&2
echo "$bindir/$tool"
