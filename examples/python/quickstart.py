# quickstart.py -- a server with a one-member group and a client that prints it.
#
#   PYTHONPATH=<prefix>/lib/python3.X/site-packages python3 quickstart.py [protocol]
import json
import sys

import mochi.margo
from mochi.flock.client import Client
from mochi.flock.server import Provider
from mochi.flock.view import GroupView

protocol = sys.argv[1] if len(sys.argv) > 1 else "na+sm"

with mochi.margo.Engine(protocol, mochi.margo.server) as engine:
    # the server: provider 42 whose initial view is just itself
    view = GroupView()
    view.members.add(str(engine.address), 42)
    config = json.dumps({"group": {"type": "centralized", "config": {}}})
    provider = Provider(engine=engine, provider_id=42, config=config, initial_view=view)
    print(f"Server running at {engine.address}, provider 42")

    # the client: a handle on the group, refreshed from its member
    client = Client(engine)
    handle = client.make_group_handle(engine.address, provider_id=42)
    handle.update()
    group = handle.view
    print(f"The group has {len(group.members)} member(s), digest {group.digest:#x}:")
    for member in group.members:
        print(f"  {member.address} (provider {member.provider_id})")
    for entry in group.metadata:
        print(f"  metadata {entry.key} = {entry.value}")
    del handle, client, provider
