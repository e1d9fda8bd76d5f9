# test_view.py -- GroupView, Member, Metadata and the two proxies (FACES-SPEC
# 2.2 to 2.5): every method, keyword and error path, and the file round trips.
import json
import os
import threading
import unittest

from flocktest import TempDirTest
from mochi.flock.common import FlockException
from mochi.flock.view import GroupView, Member, Metadata

import pyflock_common


def sample():
    v = GroupView()
    v.members.add("na+sm://2-0", 1)
    v.members.add("na+sm://1-0", 7)
    v.members.add("na+sm://1-0", 3)
    v.metadata.add("b", "2")
    v.metadata.add("a", "1")
    return v


class TestException(unittest.TestCase):
    def test_exception_type(self):
        self.assertIs(FlockException, pyflock_common.Exception)
        self.assertTrue(issubclass(FlockException, RuntimeError))
        e = FlockException("Invalid provider id", 3)
        self.assertEqual(str(e), "Invalid provider id")
        self.assertEqual(e.code, 3)
        with self.assertRaises(AttributeError):
            e.code = 4


class TestMember(unittest.TestCase):
    def test_member(self):
        m = Member("na+sm://1-0", 42)
        self.assertEqual((m.address, m.provider_id), ("na+sm://1-0", 42))
        m2 = Member(address="x", provider_id=65535)
        self.assertEqual(m2.provider_id, 65535)
        with self.assertRaises(AttributeError):
            m.address = "y"
        with self.assertRaises(AttributeError):
            m.provider_id = 1
        for bad in (-1, 65536, 1 << 70):
            with self.assertRaises(TypeError):
                Member("x", bad)

    def test_metadata_has_no_constructor(self):
        with self.assertRaises(TypeError):
            Metadata()
        with self.assertRaises(TypeError):
            Metadata("k", "v")


class TestGroupView(unittest.TestCase):
    def test_empty(self):
        v = GroupView()
        self.assertEqual(v.digest, 0)
        self.assertEqual(str(v), '{"members":[],"metadata":{}}')
        self.assertEqual(len(v.members), 0)
        self.assertEqual(v.metadata.count, 0)
        with self.assertRaises(TypeError):
            GroupView("x")
        with self.assertRaises(TypeError):
            len(v)

    def test_digest_and_str(self):
        v = sample()
        self.assertNotEqual(v.digest, 0)
        self.assertEqual(
            str(v),
            '{"members":[{"address":"na+sm://1-0","provider_id":3},'
            '{"address":"na+sm://1-0","provider_id":7},'
            '{"address":"na+sm://2-0","provider_id":1}],"metadata":{"a":"1","b":"2"}}')
        d = v.digest
        v.members.add("na+sm://3-0", 0)
        self.assertNotEqual(v.digest, d)
        v.members.remove("na+sm://3-0", 0)
        self.assertEqual(v.digest, d)
        with self.assertRaises(AttributeError):
            v.digest = 1

    def test_copy_and_clear(self):
        v = sample()
        c = v.copy()
        self.assertEqual(c.digest, v.digest)
        self.assertEqual(str(c), str(v))
        c.members.add("z", 9)
        self.assertEqual(len(v.members), 3)
        v.clear()
        self.assertEqual((v.digest, len(v.members), len(v.metadata)), (0, 0, 0))
        self.assertEqual(len(c.members), 4)

    def test_proxies_keep_the_view_alive(self):
        members = sample().members
        metadata = sample().metadata
        self.assertEqual(len(members), 3)
        self.assertEqual(metadata["a"], "1")
        self.assertIsNot(sample().members, sample().members)
        v = GroupView()
        self.assertEqual(len(v._members()), 0)
        self.assertEqual(len(v._metadata()), 0)

    def test_from_string(self):
        v = sample()
        w = GroupView.from_string(content=str(v))
        self.assertEqual((w.digest, str(w)), (v.digest, str(v)))
        for bad in ("", "{", "[]", '{"members":[]}', '{"members":[{"address":"a"}]}',
                    '{"members":[{"address":"a","provider_id":70000}]}', "null"):
            with self.assertRaises(FlockException) as cm:
                GroupView.from_string(bad)
            self.assertEqual(cm.exception.code, 6, bad)
        with self.assertRaises(TypeError):
            GroupView.from_string(42)

    def test_lock(self):
        v = sample()
        v.lock()
        # nothing else takes the lock: str and proxies work while it is held
        self.assertIn("na+sm://2-0", str(v))
        self.assertEqual(len(v.members), 3)
        with self.assertRaises(ValueError):
            v.lock()  # not recursive: refused instead of a deadlock
        v.unlock()
        with self.assertRaises(ValueError):
            v.unlock()
        with v.locked() as same:
            self.assertIs(same, v)
        with self.assertRaises(KeyError):
            with v.locked():
                raise KeyError("x")
        v.lock()  # always unlocked by locked()
        v.unlock()

    def test_lock_between_threads(self):
        v = GroupView()
        order = []
        v.lock()

        def other():
            with v.locked():
                order.append("other")

        t = threading.Thread(target=other)
        t.start()
        t.join(0.2)  # the other thread waits (GIL released) while we hold it
        order.append("main")
        v.unlock()
        t.join(60)
        self.assertFalse(t.is_alive())
        self.assertEqual(order, ["main", "other"])


class TestMembersProxy(unittest.TestCase):
    def test_order_index_iter(self):
        p = sample().members
        self.assertEqual(len(p), 3)
        self.assertEqual(p.count, 3)
        got = [(m.address, m.provider_id) for m in p]
        self.assertEqual(got, [("na+sm://1-0", 3), ("na+sm://1-0", 7), ("na+sm://2-0", 1)])
        self.assertEqual(p[2].address, "na+sm://2-0")
        self.assertEqual(p.__getitem__(index=0).provider_id, 3)
        with self.assertRaises(IndexError):
            p[3]
        for bad in (-1, 1.0, slice(0, 1), "0"):
            with self.assertRaises(TypeError):
                p[bad]

    def test_add_remove_exists(self):
        v = GroupView()
        p = v.members
        p.add(address="a", provider_id=1)
        p.add("a", 1)  # no duplicate check
        self.assertEqual(len(p), 2)
        self.assertTrue(p.exists("a", 1))
        self.assertTrue(p.exists(address="a", provider_id=1))
        self.assertFalse(p.exists("a", 2))
        p.remove("a", 1)
        self.assertEqual(len(p), 1)
        p.remove(index=0)
        self.assertEqual((len(p), v.digest), (0, 0))
        for call in (lambda: p.remove(0), lambda: p.remove("a", 1),
                     lambda: p.remove(address="b", provider_id=2)):
            with self.assertRaises(FlockException) as cm:
                call()
            self.assertEqual(cm.exception.code, 12)
            self.assertEqual(str(cm.exception), "No member at this index")
        with self.assertRaises(TypeError):
            p.add("a", 65536)
        with self.assertRaises(TypeError):
            p.add("a", -1)

    def test_delitem(self):
        p = sample().members
        del p[0]
        self.assertEqual(len(p), 2)
        with self.assertRaises(FlockException) as cm:
            del p[5]
        self.assertEqual(cm.exception.code, 12)
        with self.assertRaises(TypeError):
            del p[-1]

    def test_iter_while_shrinking(self):
        p = sample().members
        it = iter(p)
        next(it)
        p.remove(0)
        p.remove(0)
        with self.assertRaises(IndexError):
            next(it)
        q = sample().members
        self.assertEqual(len(list(iter(q))), 3)

    def test_contains(self):
        p = sample().members
        self.assertIn(("na+sm://2-0", 1), p)
        self.assertNotIn(("na+sm://2-0", 2), p)
        with self.assertRaises(TypeError):
            ["na+sm://2-0", 1] in p
        with self.assertRaises(TypeError):
            Member("na+sm://2-0", 1) in p
        with self.assertRaises(ValueError):
            ("na+sm://2-0",) in p
        with self.assertRaises(ValueError):
            ("a", 1, 2) in p
        with self.assertRaises(RuntimeError):
            (1, "a") in p


class TestMetadataProxy(unittest.TestCase):
    def test_add_get_remove(self):
        v = GroupView()
        p = v.metadata
        p.add(key="b", value="2")
        p.add("a", "1")
        p.add("a", "one")  # replaced
        self.assertEqual((len(p), p.count), (2, 2))
        self.assertEqual(p["a"], "one")
        self.assertIsNone(p["zz"])
        self.assertEqual(p.__getitem__(key="b"), "2")
        self.assertEqual((p[0].key, p[0].value), ("a", "one"))
        self.assertEqual(p.__getitem__(index=1).key, "b")
        with self.assertRaises(IndexError):
            p[2]
        with self.assertRaises(TypeError):
            p[-1]
        with self.assertRaises(AttributeError):
            p[0].key = "x"
        self.assertEqual([(m.key, m.value) for m in p], [("a", "one"), ("b", "2")])
        self.assertTrue(all(isinstance(m, Metadata) for m in p))
        self.assertIn("a", p)
        self.assertNotIn("c", p)
        with self.assertRaises(TypeError):
            1 in p
        p.remove("missing")  # silent
        del p["missing"]
        p.remove(key="a")
        del p["b"]
        self.assertEqual((len(p), v.digest), (0, 0))
        with self.assertRaises(TypeError):
            del p[0]


class TestFiles(TempDirTest):
    def test_round_trip(self):
        v = sample()
        f = self.path("g.flock")
        v.serialize_to_file(filename=f)
        w = GroupView.from_file(filename=f)
        self.assertEqual((str(w), w.digest), (str(v), v.digest))
        with open(f) as fh:
            self.assertEqual(json.load(fh)["metadata"], {"a": "1", "b": "2"})
        self.assertEqual(sorted(os.listdir(self.tmp)), ["g.flock"])  # atomic, no leftovers

    def test_errors(self):
        with self.assertRaises(FlockException) as cm:
            GroupView.from_file(self.path("missing.flock"))
        self.assertEqual(cm.exception.code, 2)
        bad = self.path("bad.flock")
        with open(bad, "w") as fh:
            fh.write("{not json")
        with self.assertRaises(FlockException) as cm:
            GroupView.from_file(bad)
        self.assertEqual(cm.exception.code, 6)
        # a view with no members is refused (as upstream) and nothing is written
        empty = GroupView()
        empty.metadata.add("k", "v")
        with self.assertRaises(FlockException) as cm:
            empty.serialize_to_file(self.path("empty.flock"))
        self.assertEqual(cm.exception.code, 6)
        self.assertFalse(os.path.exists(self.path("empty.flock")))
        with self.assertRaises(FlockException):
            sample().serialize_to_file(self.path("no-such-dir/g.flock"))


if __name__ == "__main__":
    unittest.main()
