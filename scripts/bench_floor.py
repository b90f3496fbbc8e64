"""Floor figures for ``make bench``: the least work any restore of an archive must do, as a process.

    python scripts/bench_floor.py hash ARCHIVE    # read (inflate) and SHA-256 every member
    python scripts/bench_floor.py toml ARCHIVE    # read and parse (tomllib) every .toml member

Standard library only (``zipfile``, ``hashlib``, ``tomllib``), no checks, no store: what is left of a
restore's time above these floors is lc-archive's own work (validation, records, database writes).
Prints one JSON line (members, bytes, op wall time).
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
import tomllib
import zipfile


def main(argv: list[str]) -> int:
    mode, path = argv
    started = time.perf_counter()
    members = total = 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            if mode == "toml":
                if not info.filename.endswith(".toml"):
                    continue
                data = archive.read(info)
                tomllib.loads(data.decode("utf-8"))
            else:
                digest = hashlib.sha256()
                with archive.open(info) as stream:
                    while chunk := stream.read(1 << 16):
                        digest.update(chunk)
            members += 1
            total += info.file_size
    print(json.dumps({"mode": mode, "members": members, "bytes": total,
                      "op_wall_s": round(time.perf_counter() - started, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
