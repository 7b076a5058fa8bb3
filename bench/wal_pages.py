#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The pages each commit of bench_write writes to the WAL, by B-tree (#20).

usage: bench/wal_pages.py build-bench/bench_write CREATES CLIENTS

Runs bench_write (BENCH_KEEP=1, TMPDIR=/dev/shm), copies its WAL while it
grows past 3.5 MB, then reads the last copy's frames (page number; a commit
frame has the database size) of the current salt and names each page's
B-tree with SQLite's dbstat on the kept database. Prints frames per commit
and, per B-tree, its pages per commit; deletes the database after.
"""
import collections
import glob
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import time

if len(sys.argv) != 4:
    sys.exit(__doc__.strip().splitlines()[2])
env = dict(os.environ, BENCH_CREATES=sys.argv[2], BENCH_CLIENTS=sys.argv[3], BENCH_KEEP="1",
           TMPDIR="/dev/shm")
copy = "/dev/shm/wal-pages-%d.copy" % os.getpid()
before = set(glob.glob("/dev/shm/kw-bench-write-*"))
p = subprocess.Popen([sys.argv[1]], env=env, stdout=subprocess.PIPE, text=True)
while p.poll() is None:
    for d in set(glob.glob("/dev/shm/kw-bench-write-*")) - before:
        w = d + "/kw.db-wal"
        try:
            if os.path.getsize(w) > 3_500_000:
                shutil.copyfile(w, copy + ".tmp")
                os.replace(copy + ".tmp", copy)
        except OSError:
            pass
    time.sleep(0.05)
out = p.stdout.read()
print(out, end="")
db = [line for line in out.splitlines() if "kept" in line][0].split()[-1]
try:
    data = open(copy, "rb").read()
except OSError:
    sys.exit("wal_pages: the WAL never grew past 3.5 MB; ask for more creates")
page = struct.unpack(">I", data[8:12])[0]
salt = data[16:24]
con = sqlite3.connect("file:" + db + "?mode=ro", uri=True)
owner = dict(con.execute("SELECT pageno, name FROM dbstat"))
con.close()
pages, frames, commits, off = collections.Counter(), 0, 0, 32
while off + 24 + page <= len(data) and data[off + 8:off + 16] == salt:
    pgno, commit = struct.unpack(">II", data[off:off + 8])
    pages[owner.get(pgno, "?")] += 1
    frames += 1
    commits += commit != 0
    off += 24 + page
print("frames %d, commits %d: %.1f pages a commit" % (frames, commits, frames / max(commits, 1)))
for name, n in pages.most_common():
    print("%6.2f %s" % (n / max(commits, 1), name))
shutil.rmtree(os.path.dirname(db))
os.remove(copy)
