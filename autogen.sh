#!/bin/sh
# Generate configure and Makefile.in; run ./configure afterwards.
autoreconf --force --verbose --install || exit
echo "Now run ./configure."
