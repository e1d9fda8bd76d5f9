# mochi.margo.core -- Engine, Address, MargoException and the mode tags, with
# pymargo 0.6's semantics, over the native _pymargo.Instance (margo_init ..
# margo_finalize of this project's runtime).
import json

import _pymargo

server = _pymargo.server
client = _pymargo.client


class MargoException(RuntimeError):
    """An engine failure (bad address, use after finalize, ...)."""


class Address:
    """An address; str() is its full string form (e.g. na+sm://1234-0)."""

    def __init__(self, engine, address: str):
        self._engine = engine
        self._address = address

    def __str__(self):
        return self._address

    def __repr__(self):
        return f"<mochi.margo.Address {self._address}>"

    def __eq__(self, other):
        if not isinstance(other, Address):
            return NotImplemented
        return self._address == other._address

    def __hash__(self):
        return hash(self._address)

    def copy(self):
        return Address(self._engine, self._address)

    @property
    def engine(self):
        return self._engine


def _config_threads(config):
    """The rpc_thread_count of a pymargo JSON config (str or dict), or None."""
    if isinstance(config, dict):
        cfg = config
    elif isinstance(config, str):
        if not config.strip():
            return None
        try:
            cfg = json.loads(config)
        except ValueError as e:
            raise MargoException(f"Engine: invalid JSON config: {e}") from None
    else:
        raise TypeError(f"Engine: config must be a JSON str or a dict, not {type(config)}")
    if not isinstance(cfg, dict):
        raise MargoException("Engine: the JSON config must be an object")
    n = cfg.get("rpc_thread_count")
    return n if isinstance(n, int) else None


class Engine:
    """A runtime instance. Finalized by finalize(), by leaving a with-block or
    when collected, whichever comes first; finalizing again does nothing."""

    def __init__(self, addr: str, mode=server, use_progress_thread: bool = False,
                 num_rpc_threads: int = 0, config=""):
        if not isinstance(addr, str):
            raise TypeError(f"Engine: addr must be a str, not {type(addr)}")
        threads = _config_threads(config)
        if threads is not None and not num_rpc_threads:
            num_rpc_threads = threads
        try:
            self._instance = _pymargo.Instance(addr, int(mode), bool(use_progress_thread),
                                               int(num_rpc_threads))
        except (RuntimeError, ValueError) as e:
            raise MargoException(str(e)) from None

    def _alive(self):
        inst = getattr(self, "_instance", None)
        if inst is None or inst.finalized:
            raise MargoException("the engine is finalized")
        return inst

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self.finalize()

    def __del__(self):
        if getattr(self, "_instance", None) is not None:
            self._instance.finalize()

    def finalize(self):
        """Shut the engine down (idempotent)."""
        inst = getattr(self, "_instance", None)
        if inst is not None:
            inst.finalize()

    def wait_for_finalize(self):
        """Block, with the GIL released, until the engine is finalized."""
        inst = getattr(self, "_instance", None)
        if inst is not None:
            inst.wait_for_finalize()

    @property
    def finalized(self) -> bool:
        inst = getattr(self, "_instance", None)
        return inst is None or inst.finalized

    @property
    def mid(self):
        """The PyCapsule named "margo_instance_id" that Flock's modules take."""
        try:
            return self._alive().capsule()
        except RuntimeError as e:
            raise MargoException(str(e)) from None

    def get_internal_mid(self):
        return self.mid

    @property
    def listening(self) -> bool:
        return self._alive().listening()

    def addr(self) -> Address:
        """A new Address of this engine."""
        return Address(self, self._alive().self_address())

    @property
    def address(self) -> Address:
        return self.addr()

    def lookup(self, address: str) -> Address:
        """Parse an address (no connection is made); MargoException if malformed."""
        if not isinstance(address, str):
            raise TypeError(f"Engine.lookup: expected a str, not {type(address)}")
        try:
            return Address(self, self._alive().lookup(address))
        except RuntimeError as e:
            raise MargoException(str(e)) from None
