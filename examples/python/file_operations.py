# file_operations.py -- group views and group files: build a view, write it,
# read it back, parse it from a string, and make a client handle from the file.
#
#   PYTHONPATH=<prefix>/lib/python3.X/site-packages python3 file_operations.py [dir]
import os
import sys
import tempfile

import mochi.margo
from mochi.flock.client import Client
from mochi.flock.common import FlockException
from mochi.flock.view import GroupView

_tmp = tempfile.TemporaryDirectory(prefix="flock-example-")  # removed at exit
workdir = sys.argv[1] if len(sys.argv) > 1 else _tmp.name
path = os.path.join(workdir, "example.flock")

view = GroupView()
view.members.add("na+sm://1234-0", 1)
view.members.add("na+sm://1235-0", 1)
view.metadata.add("owner", "example")
view.serialize_to_file(path)
print(f"wrote {path}: {view}")

loaded = GroupView.from_file(path)
print(f"read back {len(loaded.members)} members, same digest: {loaded.digest == view.digest}")

parsed = GroupView.from_string(str(loaded))
with parsed.locked():
    parsed.members.remove("na+sm://1235-0", 1)
print(f"parsed and edited copy: {parsed}")

try:
    GroupView.from_file(os.path.join(workdir, "missing.flock"))
except FlockException as e:
    print(f"missing file: FlockException code {e.code} ({e})")

with mochi.margo.Engine("na+sm", mochi.margo.client) as engine:
    handle = Client(engine).make_group_handle_from_file(path)  # no network access
    print(f"handle from the file: {[m.address for m in handle.view.members]}")
    del handle
