# test_provider.py -- providers (static, centralized, swim) and clients in one
# process (FACES-SPEC 2.6 to 2.8): handles by address, file and serialized view,
# the error paths, and the lifetimes (engine finalized before or after the
# providers, clients and handles are collected).
import gc
import json
import unittest

import mochi.margo
from flocktest import PROTOCOL, TempDirTest, wait_until
from mochi.flock.client import Client, GroupHandle
from mochi.flock.common import FlockException
from mochi.flock.server import Provider
from mochi.flock.view import GroupView


def self_view(engine, pid):
    v = GroupView()
    v.members.add(str(engine.address), pid)
    return v


class TestProviders(TempDirTest):
    def setUp(self):
        super().setUp()
        self.engine = mochi.margo.Engine(PROTOCOL, mochi.margo.server)

    def tearDown(self):
        self.engine.finalize()
        super().tearDown()

    def test_three_backends_one_engine(self):
        e = self.engine
        providers = []
        for pid, backend in ((1, "static"), (2, "centralized"), (3, "swim")):
            view = self_view(e, pid)
            keep = view.copy()
            cfg = json.dumps({"group": {"type": backend, "config": {}},
                              "file": self.path(f"{backend}.flock")})
            providers.append(Provider(engine=e, provider_id=pid, config=cfg,
                                      initial_view=view))
            # the provider took the view's contents
            self.assertEqual((len(view.members), view.digest), (0, 0))
            self.assertEqual(len(keep.members), 1)
        client = Client(e)
        self.assertIs(client.engine, e)
        self.assertIs(client.mid, e.mid)
        for pid, backend in ((1, "static"), (2, "centralized"), (3, "swim")):
            h = client.make_group_handle(e.address, pid)
            self.assertIsInstance(h, GroupHandle)
            self.assertIs(h.client, client)
            self.assertEqual(len(h.view.members), 1)
            self.assertIsNone(h.view.metadata["__type__"])  # not fetched before update()
            h.update()
            v = h.view
            self.assertIsNot(v, h.view)  # a new copy per access
            self.assertEqual(v.metadata["__type__"], backend)
            self.assertEqual([(m.address, m.provider_id) for m in v.members],
                             [(str(e.address), pid)])
            # the group file the provider wrote, and a handle from it
            fv = GroupView.from_file(self.path(f"{backend}.flock"))
            self.assertEqual(fv.digest, v.digest)
            hf = client.make_group_handle_from_file(filename=self.path(f"{backend}.flock"))
            self.assertEqual(str(hf.view), str(fv))
            hf.update()
            hs = client.make_group_handle_from_serialized(serialized=str(v))
            self.assertEqual(hs.view.digest, v.digest)
            hs.update()
            self.assertEqual(hs.view.digest, v.digest)
        del providers

    def test_provider_errors(self):
        e = self.engine
        cases = [("{not json", 6), ('{"group":{"type":"no-such-backend"}}', 6),
                 ('{"group":{"type":"static","config":[]}}', 6)]
        for cfg, code in cases:
            with self.assertRaises(FlockException) as cm:
                Provider(e, 5, cfg, self_view(e, 5))
            self.assertEqual(cm.exception.code, code, cfg)
        p = Provider(e, 5, '{"group":{"type":"static"}}', self_view(e, 5))
        with self.assertRaises(FlockException) as cm:
            Provider(e, 5, '{"group":{"type":"static"}}', self_view(e, 5))
        self.assertEqual(cm.exception.code, 3)
        self.assertEqual(str(cm.exception), "Invalid provider id")
        with mochi.margo.Engine(PROTOCOL, mochi.margo.client) as ce:
            with self.assertRaises(FlockException) as cm:
                Provider(ce, 1, "{}", GroupView())
            self.assertEqual(cm.exception.code, 2)
        with self.assertRaises(TypeError):
            Provider(e, 70000, "{}", GroupView())
        with self.assertRaises(TypeError):
            Provider(e, 6, "{}", "not a view")
        # joining a static group is forbidden
        other = GroupView()
        other.members.add("na+sm://1-0", 9)
        with self.assertRaises(FlockException) as cm:
            Provider(e, 7, '{"group":{"type":"static"}}', other)
        self.assertEqual(cm.exception.code, 11)
        del p

    def test_client_errors(self):
        e = self.engine
        client = Client(e)
        with self.assertRaises(TypeError) as cm:
            Client(42)
        self.assertIn("Invalid argument type", str(cm.exception))
        # nobody serves provider 77 here
        with self.assertRaises(FlockException) as cm:
            client.make_group_handle(str(e.address), 77)
        self.assertEqual(cm.exception.code, 3)
        # a malformed address: the lookup fails (RuntimeError, not a FlockException)
        with self.assertRaises(RuntimeError) as cm:
            client.make_group_handle("not an address", 1)
        self.assertNotIsInstance(cm.exception, FlockException)
        # a dead member: a process that is not there
        with self.assertRaises(FlockException) as cm:
            client.make_group_handle("na+sm://999999999-0", 1)
        self.assertEqual(cm.exception.code, 3)
        with self.assertRaises(FlockException) as cm:
            client.make_group_handle_from_file(self.path("missing.flock"))
        self.assertEqual(cm.exception.code, 2)
        with self.assertRaises(FlockException) as cm:
            client.make_group_handle_from_serialized("{]")
        self.assertEqual(cm.exception.code, 6)
        with self.assertRaises(TypeError):
            client.make_group_handle(e.address, -1)
        # a handle whose members are all gone: update fails with a code
        h = client.make_group_handle_from_serialized(
            '{"members":[{"address":"na+sm://999999999-0","provider_id":1}]}')
        with self.assertRaises(FlockException) as cm:
            h.update()
        self.assertNotEqual(cm.exception.code, 0)

    def test_client_from_protocol(self):
        e = self.engine
        p = Provider(e, 1, '{"group":{"type":"centralized"}}', self_view(e, 1))
        client = Client(PROTOCOL)  # owns a client-mode engine
        own = client.engine
        self.assertFalse(own.listening)
        h = client.make_group_handle(e.address, 1)
        h.update()
        self.assertEqual(len(h.view.members), 1)
        del h, client
        gc.collect()
        self.assertTrue(own.finalized)
        del p

    def test_subscribe_and_metadata_set(self):
        e = self.engine
        p = Provider(e, 1, '{"group":{"type":"centralized"}}', self_view(e, 1))
        h = Client(e).make_group_handle(e.address, 1)
        h.update()
        with self.assertRaises(TypeError):
            h.subscribe(42)
        events = []
        try:
            h.subscribe(lambda *args: events.append(args))
        except FlockException as x:
            # the C library does not support live subscriptions (yet)
            self.assertEqual(x.code, 10)
        else:
            h.unsubscribe()
        h.unsubscribe()  # a no-op without a subscription
        try:
            h.metadata_set("k", "v")
        except FlockException as x:
            self.assertEqual(x.code, 10)
        else:
            self.assertTrue(wait_until(lambda: (h.update(), h.view.metadata["k"] == "v")[1]))
        del p


class TestLifetimes(unittest.TestCase):
    """Engines finalized while providers, clients and handles live on, and the
    other order: no crash, no hang, exceptions instead."""

    def make(self, backend="centralized"):
        e = mochi.margo.Engine(PROTOCOL)
        v = GroupView()
        v.members.add(str(e.address), 1)
        p = Provider(e, 1, {"group": {"type": backend, "config": {}}}, v)
        c = Client(e)
        h = c.make_group_handle(e.address, 1)
        h.update()
        return e, p, c, h

    def test_finalize_first(self):
        for backend in ("static", "centralized", "swim"):
            e, p, c, h = self.make(backend)
            e.finalize()
            with self.assertRaises(FlockException) as cm:
                h.update()
            self.assertEqual(cm.exception.code, 2)
            self.assertIn("finalized", str(cm.exception))
            for use in (lambda: c.make_group_handle("na+sm://1-0", 1),
                        lambda: c.make_group_handle_from_serialized(str(h.view))):
                with self.assertRaises(RuntimeError):
                    use()
            self.assertEqual(len(h.view.members), 1)  # the cached view stays readable
            with self.assertRaises(RuntimeError):
                Provider(e, 2, "{}", GroupView())
            del p, h, c
            gc.collect()
            e.finalize()

    def test_collect_first(self):
        for backend in ("static", "centralized", "swim"):
            e, p, c, h = self.make(backend)
            del h
            del p
            del c
            gc.collect()
            e.finalize()

    def test_handle_outlives_client(self):
        e, p, c, h = self.make()
        del c
        gc.collect()
        h.update()  # the handle keeps the client
        self.assertEqual(len(h.view.members), 1)
        e.finalize()
        del h, p


if __name__ == "__main__":
    unittest.main()
