# mochi.margo -- the subset of pymargo that Flock's Python programs use,
# over this project's runtime (margo.h). See core.py.
from .core import Address, Engine, MargoException, client, server  # noqa: F401
