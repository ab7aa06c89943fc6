#!/usr/bin/env bash
# Installs the pinned CometBFT into .bin/ with `go install`, unless a usable one is already there.
# Resolution order (shared with src/cli/cometbft-bin.ts): $COMETBFT_BIN, .bin/cometbft, `cometbft` on PATH.
# Prints the path of the binary it settled on as its last line.
set -euo pipefail
VERSION="0.38.25"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bindir="$root/.bin"

version_of() { "$1" version 2>/dev/null | head -n1 | tr -d '[:space:]'; }
is_038() { case "$(version_of "$1")" in 0.38.*) return 0 ;; *) return 1 ;; esac; }

if [ -n "${COMETBFT_BIN:-}" ]; then
  if [ -x "$COMETBFT_BIN" ] && is_038 "$COMETBFT_BIN"; then
    echo "using \$COMETBFT_BIN=$COMETBFT_BIN (version $(version_of "$COMETBFT_BIN"))" >&2
    echo "$COMETBFT_BIN"; exit 0
  fi
  echo "error: \$COMETBFT_BIN=$COMETBFT_BIN is not an executable CometBFT 0.38.x (got '$(version_of "$COMETBFT_BIN" || true)'); unset it or point it at a v0.38 binary" >&2
  exit 1
fi

if [ -x "$bindir/cometbft" ] && [ "$(version_of "$bindir/cometbft")" = "$VERSION" ]; then
  echo "CometBFT $VERSION already installed in $bindir" >&2
  echo "$bindir/cometbft"; exit 0
fi

if onpath="$(command -v cometbft 2>/dev/null)" && is_038 "$onpath"; then
  echo "using cometbft on PATH: $onpath (version $(version_of "$onpath"))" >&2
  echo "$onpath"; exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "error: Go is not installed, and no CometBFT 0.38.x was found." >&2
  echo "  Install Go >= 1.22.11 (https://go.dev/doc/install, or your OS package) and re-run: bash scripts/install-cometbft.sh" >&2
  echo "  or set COMETBFT_BIN to an existing cometbft v0.38.x binary." >&2
  exit 1
fi

echo "installing CometBFT v$VERSION with go install into $bindir (takes a few minutes the first time)" >&2
mkdir -p "$bindir"
GOBIN="$bindir" go install "github.com/cometbft/cometbft/cmd/cometbft@v$VERSION" >&2
got="$(version_of "$bindir/cometbft")"
if [ "$got" != "$VERSION" ]; then
  echo "error: installed cometbft reports version '$got', expected $VERSION" >&2
  exit 1
fi
echo "installed CometBFT $got at $bindir/cometbft" >&2
echo "$bindir/cometbft"
