# test_install.py -- `cmake --install` of the build tree into a temporary
# prefix; a program then runs with only PYTHONPATH=<prefix>/lib/python3.X/site-packages
# (no LD_LIBRARY_PATH, no build tree on the path). Skipped outside ctest.
import os
import subprocess
import sys
import unittest

from flocktest import DEADLINE, HERE, PROTOCOL, TempDirTest

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(HERE)), "examples", "python")


@unittest.skipUnless(os.environ.get("FLOCK_TEST_BINDIR") and os.environ.get("FLOCK_CMAKE"),
                     "needs FLOCK_TEST_BINDIR and FLOCK_CMAKE (set by ctest)")
class TestInstall(TempDirTest):
    def test_installed_package(self):
        prefix = self.path("prefix")
        plain = {k: v for k, v in os.environ.items()
                 if k not in ("LD_PRELOAD", "PYTHONMALLOC", "PYTHONPATH", "LD_LIBRARY_PATH")}
        r = subprocess.run([os.environ["FLOCK_CMAKE"], "--install", os.environ["FLOCK_TEST_BINDIR"],
                            "--prefix", prefix], capture_output=True, text=True,
                           timeout=DEADLINE * 2, env=plain)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        site = os.path.join(prefix, "lib", f"python{sys.version_info.major}."
                            f"{sys.version_info.minor}", "site-packages")
        names = sorted(os.listdir(site))
        self.assertIn("mochi", names)
        self.assertFalse(os.path.exists(os.path.join(site, "mochi", "__init__.py")))
        for mod in ("_pymargo", "pyflock_common", "pyflock_client", "pyflock_server"):
            self.assertTrue(any(n.startswith(mod + ".cpython-") for n in names), (mod, names))
        self.assertFalse(os.path.exists(os.path.join(site, "mochi", "flock", "tests")))
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LD_LIBRARY_PATH")}
        env["PYTHONPATH"] = site  # LD_PRELOAD (ASan build) stays
        # each native module alone finds the libraries it loads (its RPATH)
        for mod in ("pyflock_server", "pyflock_client", "pyflock_common", "_pymargo"):
            r = subprocess.run([sys.executable, "-c", f"import {mod}"], capture_output=True,
                               text=True, env=env, cwd=self.tmp, timeout=DEADLINE)
            self.assertEqual(r.returncode, 0, f"{mod}: {r.stderr}")
        r = subprocess.run([sys.executable, "-c",
                            "import mochi.margo, mochi.flock.client, pyflock_server; "
                            "print(mochi.flock.client.__file__)"],
                           capture_output=True, text=True, env=env, cwd=self.tmp,
                           timeout=DEADLINE)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith(site), r.stdout)
        r = subprocess.run([sys.executable, os.path.join(EXAMPLES, "quickstart.py"), PROTOCOL],
                           capture_output=True, text=True, env=env, cwd=self.tmp,
                           timeout=DEADLINE)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("The group has 1 member(s)", r.stdout)


if __name__ == "__main__":
    unittest.main()
