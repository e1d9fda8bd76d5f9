# The SWIM state machine's sources (no runtime, no json-c): one list for the
# backend (CMakeLists.txt here), the protocol tests (tests/swim/) and the
# fuzz targets (fuzz/). Paths are absolute.
set(SWIM_PROTO_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/swim-core.c       # lifecycle, entry points, tick phases
  ${CMAKE_CURRENT_LIST_DIR}/swim-members.c    # member table, probe order, compaction
  ${CMAKE_CURRENT_LIST_DIR}/swim-merge.c      # entries -> member state (precedence)
  ${CMAKE_CURRENT_LIST_DIR}/swim-probe.c      # probe rounds, indirect probes, relays
  ${CMAKE_CURRENT_LIST_DIR}/swim-suspicion.c  # suspicion timers, last-chance check
  ${CMAKE_CURRENT_LIST_DIR}/swim-gossip.c     # gossip queue, piggyback, feedback
  ${CMAKE_CURRENT_LIST_DIR}/swim-sync.c       # push-pull, JOIN/LEAVE/SYNC announcements
  ${CMAKE_CURRENT_LIST_DIR}/swim-meta.c       # run-time metadata (last writer wins)
  ${CMAKE_CURRENT_LIST_DIR}/swim-outbox.c     # messages, outbox, pending calls
  ${CMAKE_CURRENT_LIST_DIR}/swim-intern.c     # interned addresses (process-wide)
  ${CMAKE_CURRENT_LIST_DIR}/swim-math.c)      # pure rules (table-tested)
