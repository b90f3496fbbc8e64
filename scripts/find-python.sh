#!/usr/bin/env bash
# Print the path of a Python >= 3.12: $LC_PYTHON, python3.13/3.12/python3 on PATH, or one pyenv has
# installed (pyenv's shims refuse a version that is installed but not selected, so look in its root).
set -u
ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; }
for c in "${LC_PYTHON:-}" python3.12 python3.13 python3; do
    [ -n "$c" ] || continue
    if ok "$c"; then command -v "$c" 2>/dev/null || echo "$c"; exit 0; fi
done
if command -v pyenv >/dev/null 2>&1; then
    root=$(pyenv root)
    for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.1[2-9]\.[0-9]+$' | sort -t. -k2,2n -k3,3nr); do
        c="$root/versions/$v/bin/python3"
        if [ -x "$c" ] && ok "$c"; then echo "$c"; exit 0; fi
    done
fi
echo "find-python.sh: no Python >= 3.12 found (set LC_PYTHON=/path/to/python3.12)" >&2
exit 1
