# mochi.flock.server -- Provider over pyflock_server.
import json

import pyflock_common  # noqa: F401  (pyflock_server takes its GroupView)
import pyflock_server


class Provider:
    """A Flock provider: a member of a group. It takes the contents of
    initial_view (leaving it empty), and ends when collected or when the
    engine is finalized, whichever comes first."""

    def __init__(self, engine, provider_id: int, config, initial_view):
        if isinstance(config, dict):
            config = json.dumps(config)
        self._internal = pyflock_server.Provider(engine.mid, provider_id, config, initial_view)
