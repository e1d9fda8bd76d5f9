# test_margo.py -- the mochi.margo subset (FACES-SPEC 2.10): engines, addresses,
# lookup, finalize (twice, use after, from another thread), context managers,
# several engines side by side and in sequence.
import threading
import unittest

import mochi.margo
import mochi.margo.core
from flocktest import PROTOCOL


class TestEngine(unittest.TestCase):
    def test_names(self):
        self.assertIs(mochi.margo.Engine, mochi.margo.core.Engine)
        self.assertIsInstance(mochi.margo.Address, type)
        self.assertTrue(issubclass(mochi.margo.MargoException, RuntimeError))
        self.assertNotEqual(mochi.margo.server, mochi.margo.client)

    def test_server(self):
        e = mochi.margo.Engine(PROTOCOL)  # server is the default mode
        try:
            a = e.address
            self.assertIsInstance(a, mochi.margo.Address)
            self.assertTrue(str(a).startswith(PROTOCOL + "://"), str(a))
            self.assertIsNot(e.address, a)  # a new Address per call
            self.assertEqual(e.addr(), a)
            self.assertEqual(hash(e.addr()), hash(a))
            self.assertTrue(e.listening)
            cap = e.mid
            self.assertIs(e.get_internal_mid(), cap)  # one capsule
            self.assertIn('"margo_instance_id"', repr(cap))
            self.assertEqual(e.lookup(str(a)), a)
        finally:
            e.finalize()

    def test_client_mode_and_options(self):
        e = mochi.margo.Engine(PROTOCOL, mochi.margo.client, use_progress_thread=True,
                               num_rpc_threads=2, config={"rpc_thread_count": 1})
        self.assertFalse(e.listening)
        e.finalize()
        e = mochi.margo.Engine(PROTOCOL, mode=mochi.margo.server, config='{"x": 1}')
        e.finalize()

    def test_bad_arguments(self):
        for addr in ("bogus+proto", "na+sm://not-an-address:x", ""):
            with self.assertRaises(RuntimeError):
                mochi.margo.Engine(addr)
        with self.assertRaises(mochi.margo.MargoException):
            mochi.margo.Engine(PROTOCOL, config="{not json")
        with self.assertRaises(TypeError):
            mochi.margo.Engine(42)
        with self.assertRaises(RuntimeError):
            mochi.margo.Engine(PROTOCOL, mode=7)
        with mochi.margo.Engine(PROTOCOL) as e:
            with self.assertRaises(mochi.margo.MargoException):
                e.lookup("not an address")
            with self.assertRaises(TypeError):
                e.lookup(None)

    def test_finalize_twice_and_use_after(self):
        e = mochi.margo.Engine(PROTOCOL)
        cap = e.mid
        e.finalize()
        e.finalize()
        self.assertTrue(e.finalized)
        for use in (lambda: e.mid, e.get_internal_mid, e.addr, lambda: e.address,
                    lambda: e.lookup("na+sm://1-0"), lambda: e.listening):
            with self.assertRaises(mochi.margo.MargoException):
                use()
        e.wait_for_finalize()  # returns at once
        # the capsule someone kept is refused, not read
        import pyflock_client
        with self.assertRaises(RuntimeError):
            pyflock_client.Client(cap)
        del e

    def test_context_manager(self):
        with mochi.margo.Engine(PROTOCOL) as e:
            self.assertIsInstance(e, mochi.margo.Engine)
        self.assertTrue(e.finalized)
        with mochi.margo.Engine(PROTOCOL) as e:
            e.finalize()  # __exit__ after an explicit finalize
        e = mochi.margo.Engine(PROTOCOL)
        del e  # __del__ finalizes

    def test_wait_for_finalize(self):
        e = mochi.margo.Engine(PROTOCOL)
        done = threading.Event()

        def waiter():
            e.wait_for_finalize()
            done.set()

        t = threading.Thread(target=waiter)
        t.start()
        self.assertFalse(done.wait(0.2))  # the GIL is released while it waits
        e.finalize()
        t.join(60)
        self.assertTrue(done.is_set())

    def test_several_engines(self):
        engines = [mochi.margo.Engine(PROTOCOL) for _ in range(3)]
        addrs = {str(e.address) for e in engines}
        self.assertEqual(len(addrs), 3)
        for e in engines:
            e.finalize()
        for _ in range(5):  # in sequence
            with mochi.margo.Engine(PROTOCOL, mochi.margo.client) as e:
                self.assertTrue(str(e.address))


class TestAddress(unittest.TestCase):
    def test_address(self):
        with mochi.margo.Engine(PROTOCOL) as e:
            a = e.lookup("na+sm://1234-0")
            self.assertEqual(str(a), "na+sm://1234-0")
            self.assertEqual(a, a.copy())
            self.assertNotEqual(a, e.address)
            self.assertNotEqual(a, "na+sm://1234-0")


if __name__ == "__main__":
    unittest.main()
