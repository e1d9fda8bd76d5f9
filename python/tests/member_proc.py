# member_proc.py -- a group member in its own process, for the multi-process tests.
#
#   member_proc.py <protocol> <backend> <group-file> <create|join> <provider-id>
#
# create: a group of just this provider ("self"), written to the group file;
# join: the view of the group file, which does not list this process (the join
# bootstrap). Prints "address <addr>" once registered, then serves until it
# reads "quit" (or EOF) on stdin, destroys the provider (a graceful leave) and
# finalizes the engine. Errors: "error <code> <message>" and exit status 3.
import sys

import mochi.margo
from mochi.flock.common import FlockException
from mochi.flock.server import Provider
from mochi.flock.view import GroupView


def main():
    protocol, backend, group_file, how, pid = sys.argv[1:6]
    pid = int(pid)
    engine = mochi.margo.Engine(protocol, mochi.margo.server)
    if how == "create":
        view = GroupView()
        view.members.add(str(engine.address), pid)
    else:
        view = GroupView.from_file(group_file)
    config = {"group": {"type": backend, "config": {}}, "file": group_file}
    try:
        provider = Provider(engine=engine, provider_id=pid, config=config, initial_view=view)
    except FlockException as e:
        print(f"error {e.code} {e}", flush=True)
        engine.finalize()
        sys.exit(3)
    print(f"address {engine.address}", flush=True)
    for line in sys.stdin:
        if line.strip() == "quit":
            break
    del provider
    engine.finalize()


if __name__ == "__main__":
    main()
