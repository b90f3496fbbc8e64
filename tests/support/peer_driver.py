"""Run by the openedx-core peer's Python: restore one archive into a fresh DB, print its state.

    python peer_driver.py PEER_DIR ZIP DB REF   ->  stdout: {"status": ..., "errors": ..., "state": {...}}

It drives openedx-core 1.15.2 through ``../shared/peer/peer.py`` (its DB setup and canonical state),
restore and state in one process because Django binds one database per process.
"""

import json
import sys


def main() -> None:
    peer_dir, zip_path, db, ref = sys.argv[1:5]
    sys.path.insert(0, peer_dir)
    import peer  # the peer harness (imports Django lazily)

    peer.open_db(db, fresh=True)
    from openedx_content import api

    user = peer.get_or_create_user("peer")
    out = {"status": None, "errors": None, "state": None}
    try:
        result = api.load_learning_package(zip_path, package_ref=ref, user=user)
        out["status"] = result["status"]
        log = result.get("log_file_error")
        out["errors"] = log.getvalue() if log is not None else None
        if result["status"] == "success":
            out["state"] = peer.compute_state(ref)
    except Exception as exc:  # the peer crashed instead of reporting
        out["status"] = "exception"
        out["errors"] = f"{type(exc).__name__}: {exc}"
    sys.stdout.write(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
