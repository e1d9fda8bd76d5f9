# test_multiprocess.py -- groups across Python processes: a member started by
# this process or by another python3 process creates a group and writes its
# group file; a second process joins through that file (the join bootstrap);
# a client watches the view grow and shrink; a killed member fails updates.
import json
import os
import unittest

import mochi.margo
from flocktest import PROTOCOL, Proc, TempDirTest, wait_until
from mochi.flock.client import Client
from mochi.flock.common import FlockException
from mochi.flock.server import Provider
from mochi.flock.view import GroupView


def member_set(handle):
    handle.update()
    return {(m.address, m.provider_id) for m in handle.view.members}


class TestTwoProcesses(TempDirTest):
    def setUp(self):
        super().setUp()
        self.procs = []
        self.engine = mochi.margo.Engine(PROTOCOL, mochi.margo.client)

    def tearDown(self):
        for p in self.procs:
            p.close()
        self.engine.finalize()
        super().tearDown()

    def spawn(self, *args):
        p = Proc("member_proc.py", *args)
        self.procs.append(p)
        return p

    def join_through_file(self, backend):
        gfile = self.path(f"{backend}.flock")
        a = self.spawn(PROTOCOL, backend, gfile, "create", 42)
        addr_a = a.expect("address")
        self.assertTrue(os.path.exists(gfile))
        b = self.spawn(PROTOCOL, backend, gfile, "join", 42)
        addr_b = b.expect("address")
        self.assertNotEqual(addr_a, addr_b)
        client = Client(self.engine)
        h = client.make_group_handle_from_file(gfile)
        both = {(addr_a, 42), (addr_b, 42)}
        self.assertEqual(wait_until(lambda: member_set(h) == both), True,
                         f"the group never listed both members: {member_set(h)}")
        # the file the first member keeps names both too
        self.assertTrue(wait_until(
            lambda: {(m.address, m.provider_id)
                     for m in GroupView.from_file(gfile).members} == both))
        # b leaves gracefully
        self.assertEqual(b.quit(), 0)
        self.assertEqual(wait_until(lambda: member_set(h) == {(addr_a, 42)}), True,
                         f"the member that left is still listed: {member_set(h)}")
        self.assertEqual(a.quit(), 0)

    def test_join_centralized(self):
        self.join_through_file("centralized")

    def test_join_swim(self):
        self.join_through_file("swim")

    def test_join_static_forbidden(self):
        gfile = self.path("static.flock")
        a = self.spawn(PROTOCOL, "static", gfile, "create", 42)
        a.expect("address")
        b = self.spawn(PROTOCOL, "static", gfile, "join", 42)
        self.assertEqual(b.expect("error").split()[0], "11")
        self.assertEqual(b.p.wait(60), 3)
        self.assertEqual(a.quit(), 0)

    def test_dead_member(self):
        gfile = self.path("g.flock")
        a = self.spawn(PROTOCOL, "centralized", gfile, "create", 7)
        addr_a = a.expect("address")
        client = Client(self.engine)
        h = client.make_group_handle(addr_a, 7)  # by address (an identity RPC)
        self.assertEqual(member_set(h), {(addr_a, 7)})
        self.assertEqual(h.view.metadata["__type__"], "centralized")
        a.kill()
        with self.assertRaises(FlockException) as cm:
            h.update()
        self.assertNotEqual(cm.exception.code, 0)
        with self.assertRaises(FlockException):
            client.make_group_handle(addr_a, 7)


class TestJoinThisProcess(TempDirTest):
    """The group's first member is a Provider of this process; another python3
    process joins it through the group file."""

    def test_join(self):
        gfile = self.path("g.flock")
        with mochi.margo.Engine(PROTOCOL) as engine:
            view = GroupView()
            view.members.add(str(engine.address), 1)
            cfg = json.dumps({"group": {"type": "centralized", "config": {}}, "file": gfile})
            provider = Provider(engine=engine, provider_id=1, config=cfg, initial_view=view)
            b = Proc("member_proc.py", PROTOCOL, "centralized", gfile, "join", 1)
            try:
                addr_b = b.expect("address")
                h = Client(engine).make_group_handle(engine.address, 1)
                want = {(str(engine.address), 1), (addr_b, 1)}
                self.assertEqual(wait_until(lambda: member_set(h) == want), True)
                self.assertEqual(b.quit(), 0)
                self.assertEqual(wait_until(lambda: len(member_set(h)) == 1), True)
            finally:
                b.close()
            del provider


if __name__ == "__main__":
    unittest.main()
