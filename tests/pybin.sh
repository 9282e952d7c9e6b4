#!/bin/sh
# Prints a directory holding `python3` as a link to the interpreter that
# `python3` runs here (sys.executable), past any version manager's shim.
# Prints the directory even when there is no python3 (it is then empty).
dir=${1:-build}/pybin
mkdir -p "$dir"
py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
if [ -n "$py" ] && [ -x "$py" ]; then
	ln -sf "$py" "$dir/python3"
fi
(cd "$dir" && pwd)
