# mochi.flock.client -- Client and GroupHandle over pyflock_client.
import pyflock_common  # noqa: F401  (loads the types pyflock_client returns)
import pyflock_client
import mochi.margo

from .view import GroupView


class GroupHandle:
    """A cached view of a group, refreshed from one of its members."""

    def __init__(self, internal, client):
        self._internal = internal
        self._client = client

    @property
    def client(self):
        return self._client

    def update(self):
        """Refresh the cached view (blocks, GIL released; FlockException on failure)."""
        self._internal.update()

    @property
    def view(self) -> GroupView:
        """A new copy of the cached view."""
        return self._internal.view

    def subscribe(self, on_member, on_metadata=None):
        """Live updates pushed by the contact member (another member if it fails).
        on_member(update, address, provider_id), update one of "joined", "left",
        "died"; on_metadata(key, value), value None when the key was removed.
        Either may be None. They run on a runtime thread (holding the GIL), one
        at a time, after the cached view has changed; they may read .view and
        call unsubscribe(). Returns once the first answer has been delivered.
        FlockException: code 2 (already subscribed), 10 (unsupported), 7 (no
        member answers)."""
        self._internal.subscribe(on_member, on_metadata)

    def unsubscribe(self):
        """Stop the callbacks: none runs once this returns (but the caller's own,
        from a callback). A no-op without a subscription."""
        self._internal.unsubscribe()

    def metadata_set(self, key: str, value):
        """Set (value a str) or remove (value None) a metadata entry of the group,
        through the contact member. FlockException: code 11 for a static group,
        2 for a bad or reserved key, 15 when the group cannot order it now."""
        self._internal.metadata_set(key, value)


class Client:
    """A Flock client on a mochi.margo.Engine, or on an engine it makes from a
    protocol string (and then finalizes when it is collected)."""

    def __init__(self, arg):
        if isinstance(arg, mochi.margo.Engine):
            self._engine = arg
            self._owns_engine = False
        elif isinstance(arg, str):
            self._engine = mochi.margo.Engine(arg, mochi.margo.client)
            self._owns_engine = True
        else:
            raise TypeError(f"Invalid argument type {type(arg)}")
        self._internal = pyflock_client.Client(self._engine.mid)

    def __del__(self):
        if hasattr(self, "_internal"):
            del self._internal
        if getattr(self, "_owns_engine", False):
            self._engine.finalize()

    @property
    def mid(self):
        return self._engine.mid

    @property
    def engine(self):
        return self._engine

    def make_group_handle(self, address: str | mochi.margo.Address, provider_id: int = 0):
        """A handle on the group served by (address, provider_id); its view holds
        just that member until update()."""
        internal = self._internal.make_group_handle(address=str(address),
                                                    provider_id=provider_id)
        return GroupHandle(internal, self)

    def make_group_handle_from_file(self, filename: str):
        internal = self._internal.make_group_handle_from_file(filename=filename)
        return GroupHandle(internal, self)

    def make_group_handle_from_serialized(self, serialized: str):
        internal = self._internal.make_group_handle_from_serialized(serialized=serialized)
        return GroupHandle(internal, self)
