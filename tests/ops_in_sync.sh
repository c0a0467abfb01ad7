#!/usr/bin/env bash
# ops_in_sync.sh GRADTAPE_OPS SOURCE_DIR - the docs' op list follows the op table:
# docs/ops.md is exactly `gradtape-ops --markdown` (regenerate it with
# `build/tools/gradtape-ops --markdown > docs/ops.md`).
set -euo pipefail
ops=$1 src=$2
if ! diff -u "$src/docs/ops.md" <("$ops" --markdown); then
    echo "docs/ops.md differs from the op table: run '$ops --markdown > docs/ops.md'"
    exit 1
fi
echo "docs/ops.md follows the op table"
