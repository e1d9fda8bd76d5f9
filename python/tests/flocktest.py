# flocktest.py -- helpers shared by the Python tests: private temp dirs,
# python3 subprocesses with the build tree's PYTHONPATH, polling with
# generous deadlines (no timed assertions: a deadline only bounds a hang).
import os
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PROTOCOL = os.environ.get("FLOCK_PY_PROTOCOL", "na+sm")
DEADLINE = 60.0  # seconds: only to turn a hang into a failure


def wait_until(predicate, timeout=DEADLINE, step=0.05):
    """Poll predicate() until it returns a true value; return it, or None at the deadline."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            return None
        time.sleep(step)


class TempDirTest(unittest.TestCase):
    """A test case with a private temporary directory self.tmp."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="flock-py-")
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp, name)


class Proc:
    """A python3 subprocess running a script of this directory (or any path):
    stdin is a pipe (writing "quit" asks it to stop), stdout lines are read."""

    def __init__(self, script, *args, env=None):
        script = script if os.path.isabs(script) else os.path.join(HERE, script)
        full_env = dict(os.environ)
        full_env.setdefault("FLOCK_CLIENT_TIMEOUT_MS", "3000")
        if env:
            full_env.update(env)
        self.p = subprocess.Popen([sys.executable, script, *map(str, args)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=full_env)

    def readline(self):
        """The next stdout line (stripped), or None at EOF."""
        line = self.p.stdout.readline()
        return line.strip() if line else None

    def expect(self, prefix):
        """Read lines until one starts with prefix; return the rest of it."""
        while True:
            line = self.readline()
            if line is None:
                raise AssertionError(f"process ended before printing {prefix!r}: "
                                     f"{self.p.stderr.read()}")
            if line.startswith(prefix):
                return line[len(prefix):].strip()

    def quit(self, timeout=DEADLINE):
        """Ask the process to stop and return its exit code (killed at the deadline)."""
        try:
            if self.p.stdin and not self.p.stdin.closed:
                self.p.stdin.write("quit\n")
                self.p.stdin.flush()
                self.p.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise AssertionError("process did not stop when asked")

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()

    def close(self):
        self.kill()
        for f in (self.p.stdin, self.p.stdout, self.p.stderr):
            try:
                if f:
                    f.close()
            except OSError:
                pass
