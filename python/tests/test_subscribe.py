# test_subscribe.py -- GroupHandle.subscribe / unsubscribe / metadata_set over
# flock_group_subscribe and flock_group_metadata_set: callbacks from runtime
# threads (taking the GIL) for joins, leaves and metadata changes, in one
# process and across processes, and the engine finalized while subscribed.
import json
import queue
import threading
import unittest

import mochi.margo
from flocktest import DEADLINE, PROTOCOL, Proc, TempDirTest, wait_until
from mochi.flock.client import Client
from mochi.flock.common import FlockException
from mochi.flock.server import Provider
from mochi.flock.view import GroupView


class Recorder:
    """Collects callback calls in a queue, with the thread each came from."""

    def __init__(self):
        self.events = queue.Queue()

    def member(self, update, address, provider_id):
        self.events.put(("member", update, address, provider_id, threading.get_ident()))

    def metadata(self, key, value):
        self.events.put(("metadata", key, value, None, threading.get_ident()))

    def next(self, test):
        try:
            return self.events.get(timeout=DEADLINE)
        except queue.Empty:
            test.fail("no callback came")

    def expect(self, test, want):
        """Skip events until one equals want (the first four fields)."""
        while True:
            ev = self.next(test)
            if ev[:4] == want:
                return ev


class TestSubscribe(TempDirTest):
    def setUp(self):
        super().setUp()
        self.gfile = self.path("g.flock")
        self.cfg = json.dumps({"group": {"type": "centralized", "config": {}},
                               "file": self.gfile})
        self.engine = mochi.margo.Engine(PROTOCOL)
        v = GroupView()
        v.members.add(str(self.engine.address), 1)
        self.provider = Provider(self.engine, 1, self.cfg, v)

    def tearDown(self):
        del self.provider
        self.engine.finalize()
        super().tearDown()

    def test_members_and_metadata(self):
        client = Client(PROTOCOL)
        h = client.make_group_handle(self.engine.address, 1)
        rec = Recorder()
        h.subscribe(rec.member, rec.metadata)
        with self.assertRaises(FlockException) as cm:
            h.subscribe(rec.member)
        self.assertEqual(cm.exception.code, 2)
        # a member joins (a second engine of this process, through the group file)
        second = mochi.margo.Engine(PROTOCOL)
        p2 = Provider(second, 1, self.cfg, GroupView.from_file(self.gfile))
        ev = rec.expect(self, ("member", "joined", str(second.address), 1))
        self.assertNotEqual(ev[4], threading.get_ident())  # a runtime thread
        self.assertTrue(h.view.members.exists(str(second.address), 1))
        # metadata set and removed through the handle
        h.metadata_set("color", "blue")
        rec.expect(self, ("metadata", "color", "blue", None))
        self.assertEqual(h.view.metadata["color"], "blue")
        h.metadata_set(key="color", value=None)
        rec.expect(self, ("metadata", "color", None, None))
        self.assertIsNone(h.view.metadata["color"])
        # the member leaves
        del p2
        rec.expect(self, ("member", "left", str(second.address), 1))
        second.finalize()
        h.unsubscribe()
        h.unsubscribe()  # no-op
        h.metadata_set("after", "x")  # no callback any more
        self.assertTrue(wait_until(lambda: (h.update(), h.view.metadata["after"] == "x")[1]))
        late = []
        while not rec.events.empty():
            late.append(rec.events.get())
        self.assertFalse([ev for ev in late if ev[1] == "after"], late)
        del h, client

    def test_metadata_errors(self):
        h = Client(self.engine).make_group_handle(self.engine.address, 1)
        for key in ("", "__type__"):
            with self.assertRaises(FlockException) as cm:
                h.metadata_set(key, "v")
            self.assertEqual(cm.exception.code, 2, key)
        with self.assertRaises(TypeError):
            h.metadata_set("k", 42)
        with self.assertRaises(TypeError):
            h.subscribe(42)
        with self.assertRaises(TypeError):
            h.subscribe(None, "not callable")

    def test_static_group_forbids_metadata_set(self):
        e = self.engine
        v = GroupView()
        v.members.add(str(e.address), 2)
        p = Provider(e, 2, '{"group":{"type":"static"}}', v)
        h = Client(e).make_group_handle(e.address, 2)
        with self.assertRaises(FlockException) as cm:
            h.metadata_set("k", "v")
        self.assertEqual(cm.exception.code, 11)
        del p

    def test_callbacks_may_use_the_handle(self):
        h = Client(self.engine).make_group_handle(self.engine.address, 1)
        seen = queue.Queue()

        def on_metadata(key, value):
            seen.put((key, value, h.view.metadata[key]))
            h.unsubscribe()  # from the callback itself
            seen.put("unsubscribed")

        def broken(update, address, pid):
            raise ValueError("a callback that fails is reported, not fatal")

        h.update()  # else the first answer delivers __config__ and __type__ as changes
        h.subscribe(broken, on_metadata=on_metadata)
        h.metadata_set("a", "1")
        self.assertEqual(seen.get(timeout=DEADLINE), ("a", "1", "1"))
        self.assertEqual(seen.get(timeout=DEADLINE), "unsubscribed")
        h.metadata_set("a", "2")
        h.update()
        self.assertTrue(seen.empty())
        h.subscribe(None, None)  # a new subscription after the old one
        h.unsubscribe()

    def test_failing_callback_is_reported(self):
        h = Client(self.engine).make_group_handle(self.engine.address, 1)
        h.update()
        got = queue.Queue()

        def on_metadata(key, value):
            if key == "boom":
                raise ValueError("reported as unraisable, the subscription goes on")
            got.put((key, value))

        h.subscribe(None, on_metadata)
        h.metadata_set("boom", "1")
        h.metadata_set("ok", "2")
        self.assertEqual(got.get(timeout=DEADLINE), ("ok", "2"))
        h.unsubscribe()

    def test_engine_finalized_while_subscribed(self):
        for order in ("handle first", "client first"):
            with self.subTest(order):
                ce = mochi.margo.Engine(PROTOCOL, mochi.margo.client)
                client = Client(ce)
                h = client.make_group_handle(self.engine.address, 1)
                rec = Recorder()
                h.subscribe(rec.member, rec.metadata)
                ce.finalize()
                with self.assertRaises(FlockException):
                    h.subscribe(rec.member)
                with self.assertRaises(FlockException):
                    h.metadata_set("k", "v")
                h.unsubscribe()  # stopped by the finalize already: a no-op
                if order == "handle first":
                    del h, client
                else:
                    del client, h
        # the group still works for others
        h = Client(self.engine).make_group_handle(self.engine.address, 1)
        h.metadata_set("still", "ok")


class TestSubscribeAcrossProcesses(TempDirTest):
    def test_swim_join_and_leave(self):
        gfile = self.path("swim.flock")
        a = Proc("member_proc.py", PROTOCOL, "swim", gfile, "create", 3)
        b = None
        try:
            addr_a = a.expect("address")
            with mochi.margo.Engine(PROTOCOL, mochi.margo.client) as engine:
                h = Client(engine).make_group_handle(addr_a, 3)
                rec = Recorder()
                h.subscribe(rec.member, rec.metadata)
                b = Proc("member_proc.py", PROTOCOL, "swim", gfile, "join", 3)
                addr_b = b.expect("address")
                rec.expect(self, ("member", "joined", addr_b, 3))
                self.assertEqual(len(h.view.members), 2)
                self.assertEqual(b.quit(), 0)
                while True:  # a leave, or a death if the leave was missed
                    ev = rec.next(self)
                    if ev[0] == "member" and ev[2] == addr_b:
                        self.assertIn(ev[1], ("left", "died"))
                        break
                h.unsubscribe()
                del h
            self.assertEqual(a.quit(), 0)
        finally:
            a.close()
            if b:
                b.close()


if __name__ == "__main__":
    unittest.main()
