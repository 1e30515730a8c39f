#!/usr/bin/env bash
# Makes an OrangeFS source tarball like the release one (a top directory
# orangefs-v.VERSION holding a generated ./configure) from a checkout of
# OrangeFS's git repository, for machines that cannot download the release
# (the orangefs e2e case serves it to its containers:
# DIFFUSER_ORANGEFS_TARBALL=OUT go test -tags e2e -run 'TestE2E/^orangefs$' ./workspace/).
#
# Usage: scripts/orangefs-tarball.sh REPO [TAG] [OUT]
#   REPO  a clone of OrangeFS's repository (github.com/waltligon/orangefs)
#   TAG   default v.2.9.8
#   OUT   default ./orangefs-VERSION.tar.gz
# Needs git, autoconf and automake (Debian: apt-get install autoconf automake).
set -euo pipefail
repo=${1:?usage: $0 REPO [TAG] [OUT]}
tag=${2:-v.2.9.8}
version=${tag#v.}
out=${3:-$PWD/orangefs-$version.tar.gz}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git -C "$repo" archive --prefix="orangefs-v.$version/" "$tag" | tar -x -C "$work"
cd "$work/orangefs-v.$version"
# Autoconf >= 2.70 refuses configure.ac's first AC_EGREP_HEADER inside a
# cache check ("circular dependency of AC_PROG_EGREP") unless egrep was
# looked for before; the release tarball was generated with an older one.
grep -q '^AC_PROG_EGREP' configure.ac || sed -i '/^AC_PROG_CC$/a AC_PROG_EGREP' configure.ac
./prepare
rm -rf autom4te.cache
cd "$work"
tar -czf "$out" "orangefs-v.$version"
echo "$out"
sha256sum "$out"
