# test_exit.py -- a script that leaves engines, providers, clients and handles
# alive (finalized or not, in any order) exits cleanly: no crash, no hang.
import subprocess
import sys
import textwrap
import unittest

from flocktest import DEADLINE, PROTOCOL

SETUP = textwrap.dedent(f"""
    import mochi.margo
    from mochi.flock.client import Client
    from mochi.flock.server import Provider
    from mochi.flock.view import GroupView
    engines, keep = [], []
    for backend in ("static", "centralized", "swim"):
        e = mochi.margo.Engine("{PROTOCOL}")
        v = GroupView()
        v.members.add(str(e.address), 1)
        p = Provider(e, 1, '{{"group":{{"type":"%s"}}}}' % backend, v)
        c = Client(e)
        h = c.make_group_handle(e.address, 1)
        h.update()
        engines.append(e)
        keep += [p, c, h]
    owned = Client("{PROTOCOL}")
    h2 = owned.make_group_handle(engines[1].address, 1)
    """)

ENDINGS = {
    "nothing freed": "",
    "engines finalized first": "for e in engines: e.finalize()\n",
    "objects freed, engines kept": "del keep, owned, h2\nimport gc; gc.collect()\n",
    "finalized then freed": "for e in engines: e.finalize()\ndel keep, h2, owned\n",
    "subscribed at exit": (
        "import time\n"
        "events = []\n"
        "for hh in keep[2::3][1:]:\n"
        "    hh.subscribe(lambda *a: events.append(a), lambda *a: events.append(a))\n"
        "for i in range(20):\n"
        "    keep[5].metadata_set('k', str(i))\n"
        "time.sleep(0.01)\n"),
    "sys.exit with a live wait": (
        "import threading\n"
        "threading.Thread(target=engines[0].wait_for_finalize, daemon=True).start()\n"
        "import sys; sys.exit(0)\n"),
}


class TestExit(unittest.TestCase):
    def test_exits(self):
        for name, ending in ENDINGS.items():
            with self.subTest(name):
                r = subprocess.run([sys.executable, "-c", SETUP + ending], capture_output=True,
                                   text=True, timeout=DEADLINE)
                self.assertEqual(r.returncode, 0, f"{name}: {r.stderr[-3000:]}")
                self.assertNotIn("Traceback", r.stderr)
                self.assertNotIn("Exception ignored", r.stderr)


if __name__ == "__main__":
    unittest.main()
