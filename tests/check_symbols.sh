#!/usr/bin/env bash
# check_symbols.sh <library>... - fails, listing them, when a library exports a symbol whose
# name does not start with gt_ (DESIGN.md: one prefix for every exported name; internal
# helpers are static or gt__). AddressSanitizer's own markers for exported data
# (__odr_asan.gt_op_relu for gt_op_relu) belong to the symbol they mark.
set -euo pipefail

status=0
for lib in "$@"; do
    symbols=$(nm -g --defined-only "$lib" | awk 'NF == 3 { print $2, $3 }')
    bad=$(awk '$2 !~ /^gt_/ && $2 !~ /^__odr_asan[.]gt_/' <<<"$symbols")
    if [ -z "$symbols" ]; then
        echo "$lib: no exported symbols at all"
        status=1
    elif [ -n "$bad" ]; then
        echo "$lib: exported symbols without the gt_ prefix:"
        sed 's/^/    /' <<<"$bad"
        status=1
    else
        echo "$lib: $(wc -l <<<"$symbols") exported symbols, all gt_"
    fi
done
exit $status
