/*
 * bench-view-load.c -- time to load a large group file, members in ascending,
 * descending and shuffled order, against the physical limit measured in the
 * same run: json-c parsing the same text into a JSON tree (what any loader
 * must do first). Prints each figure and its ratio to that baseline, and
 * exits 1 if any order takes over 5x the baseline (the loader sorts once:
 * O(n log n) in every order; inserting one by one was quadratic, 39.5 s at
 * 400k members in descending order).
 *
 *   bench-view-load [-n members] [-r runs]      (default 200000, 3)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <flock/flock-group-view.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The view text with members in the order given by perm. */
static char* make_text(int n, const int* perm)
{
    size_t cap = (size_t)n * 64 + 64, len = 0;
    char*  t   = malloc(cap);
    if (!t) return NULL;
    len = (size_t)snprintf(t, cap, "{\"members\":[");
    for (int k = 0; k < n; k++) {
        int i = perm[k];
        len += (size_t)snprintf(t + len, cap - len,
                                "%s{\"address\":\"tcp://10.%d.%d.%d:%d\",\"provider_id\":%d}",
                                k ? "," : "", (i >> 16) & 255, (i >> 8) & 255, i & 255,
                                1024 + i % 50000, i % 3);
    }
    snprintf(t + len, cap - len, "],\"metadata\":{\"__type__\":\"static\",\"__config__\":\"{}\"}}");
    return t;
}

static double best_of(int runs, const char* text, int which)
{
    double best = 1e30;
    for (int r = 0; r < runs; r++) {
        double t0 = now_s();
        if (which == 0) {
            struct json_object* o = json_tokener_parse(text);
            if (!o) { fprintf(stderr, "json-c failed\n"); exit(2); }
            json_object_put(o);
        } else {
            flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
            if (flock_group_view_from_string(text, strlen(text), &v) != FLOCK_SUCCESS) {
                fprintf(stderr, "load failed\n");
                exit(2);
            }
            flock_group_view_clear(&v);
        }
        double dt = now_s() - t0;
        if (dt < best) best = dt;
    }
    return best;
}

int main(int argc, char** argv)
{
    int n = 200000, runs = 3, opt, bad = 0;
    while ((opt = getopt(argc, argv, "n:r:")) != -1) {
        if (opt == 'n') n = atoi(optarg);
        else if (opt == 'r') runs = atoi(optarg);
        else { fprintf(stderr, "usage: %s [-n members] [-r runs]\n", argv[0]); return 2; }
    }
    if (n < 1 || runs < 1) return 2;
    int* perm = malloc(sizeof(int) * (size_t)n);
    if (!perm) return 2;
    const char* names[3] = {"ascending", "descending", "shuffled"};
    printf("group file load, %d members, best of %d (baseline: json-c parse of the same text)\n",
           n, runs);
    printf("%-11s %10s %10s %7s\n", "order", "json-c s", "load s", "ratio");
    srand(42);
    for (int o = 0; o < 3; o++) {
        for (int k = 0; k < n; k++) perm[k] = o == 1 ? n - 1 - k : k;
        if (o == 2)
            for (int k = n - 1; k > 0; k--) {
                int j = rand() % (k + 1), t = perm[k];
                perm[k] = perm[j];
                perm[j] = t;
            }
        char* text = make_text(n, perm);
        if (!text) return 2;
        double base = best_of(runs, text, 0), load = best_of(runs, text, 1);
        printf("%-11s %10.3f %10.3f %7.2f\n", names[o], base, load, load / base);
        if (load > 5 * base) bad = 1;
        free(text);
    }
    free(perm);
    if (bad) printf("FAIL: an order took over 5x the json-c parse\n");
    return bad;
}
