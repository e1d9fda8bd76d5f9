/*
 * swim-intern.c -- process-wide interned address strings (see swim-intern.h).
 *
 * A chained hash table under one mutex. Each string lives in one malloc'd
 * node (header + characters); the caller gets a pointer to the characters
 * and the node is found back with offsetof. The header keeps the string's
 * frt_hash_str_state: the table's buckets derive from it, and a member's
 * key costs no string walk.
 * The bucket array doubles when the table holds as many strings as
 * buckets and is freed when the table becomes empty.
 */
#include "swim-intern.h"
#include <frt.h> /* frt_hash_str_state (a header inline) */

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct inode {
    struct inode* next;
    uint64_t      fnv; /* frt_hash_str_state(s): immutable, read without the mutex */
    size_t        refs;
    char          s[];
} inode;

static pthread_mutex_t g_mtx = PTHREAD_MUTEX_INITIALIZER;
static inode**         g_buckets;
static size_t          g_nbuckets, g_count, g_bytes;

/* bytes glibc takes for an n-byte request (16-byte granules, 8-byte header) */
static size_t chunk(size_t n)
{
    size_t c = (n + 8 + 15) & ~(size_t)15;
    return c < 32 ? 32 : c;
}

/* the bucket hash of a string's FNV-1a state (high bits folded in) */
static uint64_t fold(uint64_t fnv) { return fnv ^ (fnv >> 31); }

static inode* node_of(const char* p) { return (inode*)(void*)((char*)p - offsetof(inode, s)); }

static void grow_buckets(void)
{
    size_t  nb = g_nbuckets ? g_nbuckets * 2 : 16;
    inode** b  = calloc(nb, sizeof *b);
    if (!b) return; /* keep the old (longer chains, still correct) */
    for (size_t i = 0; i < g_nbuckets; i++) {
        for (inode* n = g_buckets[i]; n;) {
            inode* next = n->next;
            size_t k    = fold(n->fnv) & (nb - 1);
            n->next     = b[k];
            b[k]        = n;
            n = next;
        }
    }
    if (g_buckets) g_bytes -= chunk(g_nbuckets * sizeof *b);
    free(g_buckets);
    g_bytes += chunk(nb * sizeof *b);
    g_buckets  = b;
    g_nbuckets = nb;
}

const char* swim__intern(const char* s)
{
    if (!s) return NULL;
    uint64_t fnv = frt_hash_str_state(s);
    uint64_t h   = fold(fnv);
    size_t   len = strlen(s);
    pthread_mutex_lock(&g_mtx);
    if (g_count >= g_nbuckets) grow_buckets();
    if (!g_buckets) {
        pthread_mutex_unlock(&g_mtx);
        return NULL;
    }
    inode** head = &g_buckets[h & (g_nbuckets - 1)];
    for (inode* n = *head; n; n = n->next) {
        if (n->fnv == fnv && strcmp(n->s, s) == 0) {
            n->refs++;
            pthread_mutex_unlock(&g_mtx);
            return n->s;
        }
    }
    inode* n = malloc(sizeof *n + len + 1);
    if (!n) {
        pthread_mutex_unlock(&g_mtx);
        return NULL;
    }
    n->fnv  = fnv;
    n->refs = 1;
    memcpy(n->s, s, len + 1);
    n->next = *head;
    *head   = n;
    g_count++;
    g_bytes += chunk(sizeof *n + len + 1);
    pthread_mutex_unlock(&g_mtx);
    return n->s;
}

void swim__unintern(const char* p)
{
    if (!p) return;
    inode* n = node_of(p);
    pthread_mutex_lock(&g_mtx);
    if (--n->refs == 0) {
        inode** pp = &g_buckets[fold(n->fnv) & (g_nbuckets - 1)];
        while (*pp != n) pp = &(*pp)->next;
        *pp = n->next;
        g_count--;
        g_bytes -= chunk(sizeof *n + strlen(n->s) + 1);
        free(n);
        if (g_count == 0) {
            g_bytes -= chunk(g_nbuckets * sizeof *g_buckets);
            free(g_buckets);
            g_buckets  = NULL;
            g_nbuckets = 0;
        }
    }
    pthread_mutex_unlock(&g_mtx);
}

uint64_t swim__intern_fnv(const char* p) { return node_of(p)->fnv; }

size_t swim__intern_bytes(void)
{
    pthread_mutex_lock(&g_mtx);
    size_t b = g_bytes;
    pthread_mutex_unlock(&g_mtx);
    return b;
}

size_t swim__intern_count(void)
{
    pthread_mutex_lock(&g_mtx);
    size_t c = g_count;
    pthread_mutex_unlock(&g_mtx);
    return c;
}
