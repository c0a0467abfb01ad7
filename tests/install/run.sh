#!/usr/bin/env bash
# run.sh <build dir> <version> - installs that build into a fresh prefix and builds and runs
# consumer.c against the installed copy, float and double, once through
# find_package(gradtape) and once through pkg-config, and docs/example_custom_op.c through
# pkg-config. Any failing step fails the test.
# CC and CFLAGS (the sanitizer flags of a sanitizer build) are used for the consumer.
set -euo pipefail

build_dir=$1
version=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/gradtape-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
prefix=$work/prefix

step() { printf '\n== %s\n' "$*"; }

step "cmake --install $build_dir --prefix $prefix"
cmake --install "$build_dir" --prefix "$prefix"

for lib in gradtape gradtape_f64; do
    step "find_package(gradtape $version): consumer linked to gradtape::$lib"
    cmake -S "$here" -B "$work/build-$lib" -DCMAKE_PREFIX_PATH="$prefix" \
        -DGT_FLAVOUR="$lib" -DGT_VERSION="$version"
    cmake --build "$work/build-$lib"
    "$work/build-$lib/consumer"

    step "pkg-config $lib: cc consumer.c \$(pkg-config --cflags --libs $lib)"
    flags=$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs "$lib")
    echo "pkg-config: $flags"
    # shellcheck disable=SC2086 # CFLAGS and flags are lists of words
    "${CC:-cc}" ${CFLAGS:-} -o "$work/consumer-$lib" "$here/consumer.c" $flags
    "$work/consumer-$lib"

    step "pkg-config $lib: the custom-op example, docs/example_custom_op.c"
    # shellcheck disable=SC2086
    "${CC:-cc}" ${CFLAGS:-} -o "$work/example_custom_op-$lib" \
        "$here/../../docs/example_custom_op.c" $flags
    "$work/example_custom_op-$lib"
done
step "install test passed"
