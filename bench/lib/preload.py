#!/usr/bin/env python3
"""Fills a latchkey SQLite database with N live tokens for the scale run of `make bench`.

    python3 bench/lib/preload.py DB_PATH N [--expired]

With --expired the tokens expired two days ago (issued the day before), for bench/purge.sh:
rows the background purge is to delete.

The database must already hold the bench user and apps (latchkey's CLI made them); the tokens
are spread over those apps, half access and half refresh tokens, none expired or revoked,
exactly the rows latchkey itself writes (increasing row ids from the clock as
allocate_id() makes them, hashes of random secrets, JSON scope lists), in one
transaction.
"""
import os
import sqlite3
import sys
import time


def main():
    path, n = sys.argv[1], int(sys.argv[2])
    expired = "--expired" in sys.argv[3:]
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    user_id, org_id = con.execute("SELECT id, org_id FROM users ORDER BY created_ms LIMIT 1").fetchone()
    clients = [r[0] for r in con.execute("SELECT client_id FROM apps ORDER BY created_ms")]
    if not clients:
        sys.exit("preload: the database has no apps")
    now = int(time.time() * 1000)
    first_id = (now << 16) - n  # below the ids the server will allocate from now on
    day = 86400 * 1000
    issued, expires = (now - 3 * day, now - 2 * day) if expired else (now, now + 7 * day)
    started = time.time()
    con.execute("BEGIN")
    con.executemany(
        "INSERT INTO tokens (id, token_hash, kind, client_id, user_id, org_id, scopes, family_id,"
        " code_key, issued_ms, expires_ms, revoked, rotated, cnf_x5t)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, 0, 0, '')",
        (
            (first_id + i, os.urandom(32).hex(), "access" if i % 2 == 0 else "refresh",
             clients[i % len(clients)], user_id, org_id, '["api"]', str(first_id + i - i % 2), issued,
             expires)
            for i in range(n)
        ),
    )
    con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    live = con.execute("SELECT count(*) FROM tokens WHERE revoked = 0 AND expires_ms > ?", (now,)).fetchone()[0]
    print(f"preloaded {n} {'expired' if expired else 'live'} tokens in {time.time() - started:.1f} s;"
          f" {live} live tokens in the database", file=sys.stderr)


if __name__ == "__main__":
    main()
