#!/usr/bin/env bash
# Copies the Cosmos SDK, CometBFT and helper .proto files the REST gateway needs (the import closure of
# ROOTS) from Go's module cache into proto/. Run once when bumping a version; the copies are committed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SDK=github.com/cosmos/cosmos-sdk@v0.50.14
COMET=github.com/cometbft/cometbft@v0.38.25
GOGO=github.com/cosmos/gogoproto@v1.7.0
CPROTO=github.com/cosmos/cosmos-proto@v1.0.0-beta.5
GW=github.com/grpc-ecosystem/grpc-gateway@v1.16.0
for m in $SDK $COMET $GOGO $CPROTO $GW; do go mod download "$m" >/dev/null; done
MOD="$(go env GOMODCACHE)/github.com"
# CometBFT's own tendermint/*.proto first (we run v0.38.25), then the SDK's.
SEARCH=(
  "$MOD/cometbft/cometbft@v0.38.25/proto"
  "$MOD/cosmos/cosmos-sdk@v0.50.14/proto"
  "$MOD/cosmos/gogoproto@v1.7.0"
  "$MOD/cosmos/gogoproto@v1.7.0/protobuf"
  "$MOD/cosmos/cosmos-proto@v1.0.0-beta.5/proto"
  "$MOD/grpc-ecosystem/grpc-gateway@v1.16.0/third_party/googleapis"
)
ROOTS=(
  cosmos/auth/v1beta1/query.proto cosmos/bank/v1beta1/query.proto cosmos/bank/v1beta1/tx.proto
  cosmos/tx/v1beta1/service.proto cosmos/base/tendermint/v1beta1/query.proto
  cosmos/crypto/secp256k1/keys.proto cosmos/crypto/ed25519/keys.proto cosmos/crypto/multisig/keys.proto
  cosmos/staking/v1beta1/query.proto cosmos/distribution/v1beta1/query.proto
  cosmos/mint/v1beta1/query.proto cosmos/slashing/v1beta1/query.proto
  cosmos/staking/v1beta1/tx.proto cosmos/distribution/v1beta1/tx.proto cosmos/slashing/v1beta1/tx.proto
  google/rpc/status.proto
)
# Built into protobufjs: not copied.
BUNDLED="google/protobuf/(any|timestamp|duration|empty|struct|wrappers|field_mask).proto"
declare -A seen
queue=("${ROOTS[@]}")
while ((${#queue[@]})); do
  f="${queue[0]}"; queue=("${queue[@]:1}")
  [[ -n "${seen[$f]:-}" ]] && continue
  seen[$f]=1
  [[ "$f" =~ ^$BUNDLED$ ]] && continue
  src=""
  for d in "${SEARCH[@]}"; do [[ -f "$d/$f" ]] && { src="$d/$f"; break; }; done
  [[ -z "$src" ]] && { echo "not found: $f" >&2; exit 1; }
  mkdir -p "proto/$(dirname "$f")"
  install -m 0644 "$src" "proto/$f"
  while read -r imp; do queue+=("$imp"); done < <(sed -nE 's/^import( public| weak)? "([^"]+)";.*/\2/p' "$src")
done
echo "copied ${#seen[@]} files (bundled ones excepted) into proto/"
