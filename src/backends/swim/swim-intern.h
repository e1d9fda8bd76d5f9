/*
 * swim-intern.h -- a process-wide, thread-safe, reference-counted table of
 * address strings. Every swim machine of the process keeps its members'
 * addresses here, so an address known to K providers of one process (or
 * shared by K members living in one remote process) is stored once.
 *
 * swim__intern returns the canonical copy of a string with one more
 * reference; swim__unintern drops one (the copy is freed with the last).
 * Two interned pointers are equal iff their strings are equal. The strings
 * are immutable. All functions take one mutex; NULL is accepted by
 * swim__unintern and ignored.
 */
#ifndef FLOCK_SWIM_INTERN_H
#define FLOCK_SWIM_INTERN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The canonical copy of s with one more reference; NULL on allocation failure. */
const char* swim__intern(const char* s);
/** Drop one reference to an interned string (from swim__intern). */
void swim__unintern(const char* p);
/** frt_hash_str_state of an interned string (p from swim__intern, still
 *  referenced): kept with it, so no lock and no string walk. */
uint64_t swim__intern_fnv(const char* p);
/** Heap bytes held by the table (strings + buckets), for benchmarks. */
size_t swim__intern_bytes(void);
/** Distinct strings in the table. */
size_t swim__intern_count(void);

#ifdef __cplusplus
}
#endif

#endif /* FLOCK_SWIM_INTERN_H */
