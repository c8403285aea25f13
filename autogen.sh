#!/bin/sh
# Generate ./configure and Makefile.in from configure.ac and Makefile.am.
set -e
cd "$(dirname "$0")"
mkdir -p build-aux
autoreconf -fi
# automake's TAP driver lets each criterion test show as its own PASS/FAIL line.
cp -f "$(automake --print-libdir)/tap-driver.sh" build-aux/tap-driver.sh
