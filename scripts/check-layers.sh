#!/usr/bin/env bash
# Fails when a folder of src/ includes a folder above it (docs/design.md, "Layers"). The layers,
# lowest first; a file may include its own folder and any folder listed before it.
set -euo pipefail
cd "$(dirname "$0")/.."
layers=(core crypto saml store http web config keys token oidc oauth app cli)

rank() {
  local i
  for i in "${!layers[@]}"; do [ "${layers[$i]}" = "$1" ] && { echo "$i"; return; }; done
  echo -1
}

bad=0
while IFS= read -r file; do
  from=$(echo "$file" | cut -d/ -f2)
  from_rank=$(rank "$from")
  if [ "$from_rank" -lt 0 ]; then
    echo "check-layers: $file: folder '$from' is not in the layer list" >&2
    bad=1
    continue
  fi
  while IFS= read -r line; do
    to=$(echo "$line" | sed -E 's/^([0-9]+):#include "([a-z_]+)\/.*/\2/')
    num=$(echo "$line" | cut -d: -f1)
    to_rank=$(rank "$to")
    if [ "$to_rank" -lt 0 ] || [ "$to_rank" -gt "$from_rank" ]; then
      echo "check-layers: $file:$num includes $to/ (layer '$from' may include only: ${layers[*]:0:$((from_rank + 1))})" >&2
      bad=1
    fi
  done < <(grep -nE '^#include "[a-z_]+/' "$file" || true)
done < <(git ls-files 'src/*.h' 'src/*.cc')

if [ "$bad" -ne 0 ]; then exit 1; fi
echo "check-layers: every include in src/ points down (${layers[*]})"
