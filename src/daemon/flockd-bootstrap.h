/*
 * flockd-bootstrap.h -- starting one provider of flockd: its bootstrap
 * methods, tried in order, and the rules that keep a group one group.
 */
#ifndef FLOCKD_BOOTSTRAP_H
#define FLOCKD_BOOTSTRAP_H

#include <stdbool.h>
#include <margo.h>
#include <flock/flock-server.h>
#include "flockd-config.h"

/**
 * Start provider p on mid, trying its bootstrap methods in order. A method
 * that fails hands over to the next one only when nothing is at stake: the
 * group file does not exist (join, file), or a method that does not use the
 * group file failed (view, mpi). A group file that exists but cannot be read,
 * is not a group view, describes a group of another backend type, or whose
 * group cannot be joined stops the provider with an error naming the file and
 * the reason: nothing is written. Each failure is logged (a warning when the
 * next method is tried, an error at the end). *mpi_initialized_here is set
 * when the mpi method initialized MPI. Returns 0, or -1.
 */
int flockd__start_provider(margo_instance_id mid, bool* mpi_initialized_here,
                           const flockd_provider_config* p, flock_provider_t* out);

/** Text of a flock_return_t for log lines ("RPC/network error" for FROM_MERCURY). */
const char* flockd__strerror(flock_return_t r);

#endif /* FLOCKD_BOOTSTRAP_H */
