# mochi.flock.view -- GroupView, Member and Metadata (native, pyflock_common),
# with the members/metadata properties and the locked() context manager.
from contextlib import contextmanager

import pyflock_common
from pyflock_common import GroupView, Member, Metadata


def _members(self):
    """A new MembersProxy over this view (it keeps the view alive)."""
    return self._members()


def _metadata(self):
    """A new MetadataProxy over this view (it keeps the view alive)."""
    return self._metadata()


@contextmanager
def _locked(self):
    """Lock the view, yield it, and always unlock it."""
    self.lock()
    try:
        yield self
    finally:
        self.unlock()


GroupView.members = property(_members)
GroupView.metadata = property(_metadata)
GroupView.locked = _locked

__all__ = ["GroupView", "Member", "Metadata"]
