# group_updates.py -- a member joins a group through its group file and leaves
# again, while a client watches the view.
#
#   PYTHONPATH=<prefix>/lib/python3.X/site-packages python3 group_updates.py [protocol] [dir]
import json
import os
import sys
import tempfile
import time

import mochi.margo
from mochi.flock.client import Client
from mochi.flock.server import Provider
from mochi.flock.view import GroupView

protocol = sys.argv[1] if len(sys.argv) > 1 else "na+sm"
_tmp = tempfile.TemporaryDirectory(prefix="flock-example-")  # removed at exit
workdir = sys.argv[2] if len(sys.argv) > 2 else _tmp.name
group_file = os.path.join(workdir, "group.flock")
config = json.dumps({"group": {"type": "centralized", "config": {}}, "file": group_file})


def show(handle, what, deadline=60.0):
    """Update until the view changes (or the deadline passes), then print it."""
    old = handle.view.digest
    end = time.monotonic() + deadline
    while True:
        handle.update()
        if handle.view.digest != old or time.monotonic() > end:
            break
        time.sleep(0.05)
    members = [f"{m.address}:{m.provider_id}" for m in handle.view.members]
    print(f"{what}: {len(members)} member(s): {', '.join(members)}")


first = mochi.margo.Engine(protocol)
view = GroupView()
view.members.add(str(first.address), 1)
p1 = Provider(engine=first, provider_id=1, config=config, initial_view=view)
print(f"first member {first.address} wrote {group_file}")

watcher = Client(protocol)  # a client with its own client-mode engine
handle = watcher.make_group_handle_from_file(group_file)
handle.update()
print(f"watching: {len(handle.view.members)} member(s)")

second = mochi.margo.Engine(protocol)
p2 = Provider(engine=second, provider_id=1, config=config,
              initial_view=GroupView.from_file(group_file))  # the join bootstrap
show(handle, f"after {second.address} joined")

del p2  # leaves the group
second.finalize()
show(handle, "after it left")

del handle, watcher, p1
first.finalize()
