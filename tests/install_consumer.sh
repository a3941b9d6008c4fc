#!/bin/bash
# Install the library into a temporary staging directory, then build and run
# a small program outside the source tree against it, exactly as a user would:
# flags from `pkg-config shopcrm`, once dynamically and once statically
# (`pkg-config --static`). Run by meson test (tests/meson.build):
#   install_consumer.sh MESON BUILD_ROOT SOURCE_ROOT CC VERSION SANITIZE [COVERAGE]
set -euo pipefail

meson=$1 build=$2 src=$3 version=$5 sanitize=$6 coverage=${7:-false}
read -r -a cc <<<"$4"   # the C compiler command, possibly several words

stage=$(mktemp -d "${TMPDIR:-/tmp}/shopcrm-install.XXXXXX")
trap 'rm -rf "$stage"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$meson" install -C "$build" --destdir "$stage" --no-rebuild --quiet

pc=$(find "$stage" -name shopcrm.pc -print -quit)
[ -n "$pc" ] || fail "no shopcrm.pc installed"
# Only the staged .pc, with its /usr/local/... paths rebased into the stage
# (TOOLCHAIN.md: --define-prefix breaks with lib/x86_64-linux-gnu).
# The system's .pc files stay visible for what shopcrm.pc requires (zlib).
syspc=$(pkg-config --variable pc_path pkg-config)
export PKG_CONFIG_LIBDIR=$(dirname "$pc"):$syspc PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_SYSROOT_DIR=$stage
pkg-config --exists shopcrm || fail "pkg-config does not find shopcrm"
[ "$(pkg-config --modversion shopcrm)" = "$version" ] || fail "shopcrm.pc version is not $version"

libdir=$(pkg-config --variable=libdir shopcrm)
incdir=$(pkg-config --variable=includedir shopcrm)
libdir=$stage${libdir#"$stage"} incdir=$stage${incdir#"$stage"}

# What must be installed: umbrella + every area header, the shared library
# with its SONAME link, the static library.
[ -f "$incdir/shopcrm.h" ] || fail "shopcrm.h not installed in $incdir"
for h in "$src"/include/shopcrm/*.h; do
    [ -f "$incdir/shopcrm/$(basename "$h")" ] || fail "shopcrm/$(basename "$h") not installed"
done
for f in libshopcrm.so libshopcrm.so.1 "libshopcrm.so.$version" libshopcrm.a; do
    [ -e "$libdir/$f" ] || fail "$f not installed in $libdir"
done
[ "$(readlink "$libdir/libshopcrm.so.1")" = "libshopcrm.so.$version" ] ||
    fail "libshopcrm.so.1 does not point to libshopcrm.so.$version"

san=()
if [ "$sanitize" != none ] && [ -n "$sanitize" ]; then
    san=(-fsanitize="$sanitize")   # a sanitized library needs a sanitized program
fi
if [ "$coverage" = true ]; then
    san+=(--coverage)   # a library built with -Db_coverage=true needs libgcov
fi
work=$stage/consumer
mkdir -p "$work"
want="shopcrm $version: 5 added, 3 customers, 5 orders, 0 duplicates, 1 merged"

# 1. dynamic
# shellcheck disable=SC2046  # pkg-config output is meant to be split
"${cc[@]}" -std=c11 -Wall -Wextra -Werror -pedantic "${san[@]}" -o "$work/consumer" \
    "$src/tests/consumer/main.c" $(pkg-config --cflags --libs shopcrm)
readelf -d "$work/consumer" | grep -q 'NEEDED.*\[libshopcrm\.so\.1\]' ||
    fail "consumer does not link libshopcrm.so.1"
got=$(LD_LIBRARY_PATH=$libdir "$work/consumer")
[ "$got" = "$want" ] || fail "dynamic consumer printed '$got', expected '$want'"
echo "dynamic: $got"

# 2. static: the same flags with --static, the archive chosen over the .so
static_libs=$(pkg-config --static --libs shopcrm)
static_libs=${static_libs/-lshopcrm/-l:libshopcrm.a}
# shellcheck disable=SC2046,SC2086
"${cc[@]}" -std=c11 -Wall -Wextra -Werror -pedantic "${san[@]}" -o "$work/consumer-static" \
    "$src/tests/consumer/main.c" $(pkg-config --cflags shopcrm) $static_libs
if readelf -d "$work/consumer-static" | grep -q 'NEEDED.*libshopcrm'; then
    fail "static consumer still needs libshopcrm.so"
fi
got=$(env -u LD_LIBRARY_PATH "$work/consumer-static")
[ "$got" = "$want" ] || fail "static consumer printed '$got', expected '$want'"
echo "static: $got"

# 3. the installed command-line tool, if this build installs it
bindir=$(find "$stage" -type f -name shopcrm -path '*/bin/*' -print -quit)
if [ -n "$bindir" ]; then
    out=$(LD_LIBRARY_PATH=$libdir "$bindir" --version) || fail "installed shopcrm --version failed"
    case $out in *"$version"*) echo "cli: $out" ;; *) fail "shopcrm --version printed '$out'" ;; esac
fi
echo "install test passed"
