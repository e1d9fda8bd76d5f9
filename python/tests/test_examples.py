# test_examples.py -- the programs of examples/python run and print what they promise.
import os
import subprocess
import sys
import unittest

from flocktest import DEADLINE, HERE, PROTOCOL, TempDirTest

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(HERE)), "examples", "python")


class TestExamples(TempDirTest):
    def run_example(self, name, *args):
        r = subprocess.run([sys.executable, os.path.join(EXAMPLES, name), *args],
                           capture_output=True, text=True, timeout=DEADLINE * 2)
        self.assertEqual(r.returncode, 0, f"{name}: {r.stdout}\n{r.stderr}")
        return r.stdout

    def test_quickstart(self):
        out = self.run_example("quickstart.py", PROTOCOL)
        self.assertIn("The group has 1 member(s)", out)
        self.assertIn("metadata __type__ = centralized", out)

    def test_group_updates(self):
        out = self.run_example("group_updates.py", PROTOCOL, self.tmp)
        self.assertIn("watching: 1 member(s)", out)
        self.assertRegex(out, r"joined: 2 member\(s\)")
        self.assertIn("after it left: 1 member(s)", out)

    def test_file_operations(self):
        out = self.run_example("file_operations.py", self.tmp)
        self.assertIn("same digest: True", out)
        self.assertIn("missing file: FlockException code 2", out)
        self.assertIn("handle from the file: ['na+sm://1234-0', 'na+sm://1235-0']", out)


if __name__ == "__main__":
    unittest.main()
