/*
 * flockd-bootstrap.c -- starting one provider of flockd: building its initial
 * view with each bootstrap method (self, join, file, view, mpi) and
 * registering it, with the rules that keep a group one group:
 *   - a provider listed in the group file takes its place again, whatever
 *     the method (join or file): a restarted member comes back;
 *   - a list falls back from join/file to the next method only when the
 *     group file does not exist; any other failure stops the provider with
 *     the reason and writes nothing (an unreadable or invalid file, a file
 *     of another backend type, a group that cannot be joined);
 *   - "self" with a group file that exists starts a new group only if no
 *     member listed there answers (a group of dead processes); a live group
 *     is never replaced.
 * Owns nothing that outlives a call. May call the Flock public API, the
 * runtime (frt_forward, to probe members), MPI (the mpi method) and the
 * parsed configuration (flockd-config.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <margo.h>
#include <frt.h>
#include <flock/flock-bootstrap.h>
#include <flock/flock-group-view.h>
#include <flock/flock-server.h>
#ifdef FLOCK_HAVE_MPI
#include <mpi.h>
#include <flock/flock-bootstrap-mpi.h>
#endif

#include "flockd-bootstrap.h"

/* What the failure of one method means for the next one. */
typedef enum { BOOT_OK = 0, BOOT_NEXT, BOOT_STOP } boot_result;

#define FLOCKD_PROBE_TIMEOUT_MS 500.0 /* per member, when "self" meets a group file */
#define FLOCKD_PROBE_MAX        32    /* members probed at most */

const char* flockd__strerror(flock_return_t r)
{
#define X(__err__, __msg__) __msg__,
    static const char* const msgs[] = {FLOCK_RETURN_VALUES};
#undef X
    if ((int)r < 0 || (size_t)r >= sizeof msgs / sizeof msgs[0]) return "unknown error";
    if (r == FLOCK_ERR_FROM_MERCURY) return "RPC/network error";
    return msgs[r];
}

/* ------------------------------------------------------------------ */
/* bootstrap methods                                                   */
/* ------------------------------------------------------------------ */

#ifdef FLOCK_HAVE_MPI
/* Contract: builds the view of the MPI job (or of p->mpi_ranks of
 * MPI_COMM_WORLD; a process not listed fails this method). Initializes MPI
 * if needed (remembered, to finalize it at exit). */
static int flockd__bootstrap_mpi(bool* mpi_initialized_here, const flockd_provider_config* p,
                                 margo_instance_id mid, flock_group_view_t* view, char* why,
                                 size_t whysize)
{
    int       initialized = 0, rank = 0, size = 0, provided = 0, ret = -1;
    MPI_Group world = MPI_GROUP_NULL, sub = MPI_GROUP_NULL;
    MPI_Comm  comm  = MPI_COMM_NULL;
    MPI_Initialized(&initialized);
    if (!initialized) {
        if (MPI_Init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS) {
            snprintf(why, whysize, "MPI_Init_thread failed");
            goto finish;
        }
        *mpi_initialized_here = true;
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (p->has_mpi_ranks) {
        bool listed = false;
        for (size_t i = 0; i < p->num_mpi_ranks; i++) {
            if (p->mpi_ranks[i] >= size) {
                snprintf(why, whysize, "mpi_ranks: rank %d is out of range (the job has %d ranks)",
                         p->mpi_ranks[i], size);
                goto finish;
            }
            if (p->mpi_ranks[i] == rank) listed = true;
        }
        if (!listed) {
            snprintf(why, whysize, "this process (rank %d) is not listed in mpi_ranks", rank);
            goto finish;
        }
        if (MPI_Comm_group(MPI_COMM_WORLD, &world) != MPI_SUCCESS
            || MPI_Group_incl(world, (int)p->num_mpi_ranks, p->mpi_ranks, &sub) != MPI_SUCCESS
            || MPI_Comm_create_group(MPI_COMM_WORLD, sub, (int)p->provider_id, &comm) != MPI_SUCCESS) {
            snprintf(why, whysize, "cannot create the communicator of mpi_ranks");
            goto finish;
        }
    }
    flock_return_t fr = flock_group_view_init_from_mpi(
        mid, p->provider_id, comm != MPI_COMM_NULL ? comm : MPI_COMM_WORLD, view);
    if (fr != FLOCK_SUCCESS) {
        snprintf(why, whysize, "flock_group_view_init_from_mpi: %s", flockd__strerror(fr));
        goto finish;
    }
    ret = 0;
finish:
    if (comm != MPI_COMM_NULL) MPI_Comm_free(&comm);
    if (sub != MPI_GROUP_NULL) MPI_Group_free(&sub);
    if (world != MPI_GROUP_NULL) MPI_Group_free(&world);
    return ret;
}
#endif

/* Contract: true if some member of view answers flock_get_view (probed in
 * order, FLOCKD_PROBE_TIMEOUT_MS each, at most FLOCKD_PROBE_MAX members);
 * the first that answers is copied into who. A process that runs no Flock
 * provider there answers with an error, which does not count. */
static bool flockd__group_answers(margo_instance_id mid, flock_group_view_t* view, char* who,
                                  size_t whosize)
{
    uint8_t in[8] = {0}; /* flock_get_view input: u64 digest 0 (always a full view) */
    for (size_t i = 0; i < view->members.size && i < FLOCKD_PROBE_MAX; i++) {
        const flock_member_t* m    = &view->members.data[i];
        hg_addr_t             addr = HG_ADDR_NULL;
        void*                 out  = NULL;
        size_t                olen = 0;
        if (margo_addr_lookup(mid, m->address, &addr) != HG_SUCCESS) continue;
        hg_return_t hret = frt_forward(mid, addr, "flock_get_view", m->provider_id, in, sizeof in,
                                       FLOCKD_PROBE_TIMEOUT_MS, &out, &olen);
        free(out);
        margo_addr_free(mid, addr);
        if (hret == HG_SUCCESS) {
            snprintf(who, whosize, "%s (provider %u)", m->address, (unsigned)m->provider_id);
            return true;
        }
    }
    return false;
}

/* Contract: loads p->file into view. BOOT_NEXT (with why) if the file does
 * not exist; BOOT_STOP if it exists but cannot be read, is not a group view
 * or describes a group of another backend type than p's. */
static boot_result flockd__load_group_file(const flockd_provider_config* p,
                                           flock_group_view_t* view, char* why, size_t whysize)
{
    struct stat st;
    if (stat(p->file, &st) != 0) {
        snprintf(why, whysize, "group file \"%s\": %s", p->file, strerror(errno));
        return errno == ENOENT ? BOOT_NEXT : BOOT_STOP;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, whysize, "group file \"%s\" is not a regular file", p->file);
        return BOOT_STOP;
    }
    flock_return_t fr = flock_group_view_init_from_file(p->file, view);
    if (fr != FLOCK_SUCCESS) {
        snprintf(why, whysize, "group file \"%s\" %s", p->file,
                 fr == FLOCK_ERR_INVALID_CONFIG ? "is not a valid group view"
                                                : "cannot be read (see the error above)");
        return BOOT_STOP;
    }
    const char* type = flock_group_view_find_metadata(view, "__type__");
    if (type && p->backend && strcmp(type, p->backend) != 0) {
        snprintf(why, whysize,
                 "group file \"%s\" describes a \"%s\" group, and this provider is configured "
                 "for the \"%s\" backend: it can neither join nor replace that group",
                 p->file, type, p->backend);
        flock_group_view_clear(view);
        return BOOT_STOP;
    }
    return BOOT_OK;
}

/* Contract: the view of a new group of this provider alone. With a group
 * file that exists, only if no member listed there answers (a live group is
 * never replaced); an unreadable or invalid file stops. */
static boot_result flockd__bootstrap_self(margo_instance_id mid, const flockd_provider_config* p,
                                          flock_group_view_t* view, char* why, size_t whysize)
{
    if (p->file) {
        flock_group_view_t old = FLOCK_GROUP_VIEW_INITIALIZER;
        char               who[320];
        boot_result        r = flockd__load_group_file(p, &old, why, whysize);
        if (r == BOOT_STOP) return BOOT_STOP;
        if (r == BOOT_OK) {
            bool alive = flockd__group_answers(mid, &old, who, sizeof who);
            size_t n   = old.members.size;
            flock_group_view_clear(&old);
            if (alive) {
                snprintf(why, whysize,
                         "group file \"%s\" describes a live group (%s answered): \"self\" "
                         "never replaces it; use \"join\" or \"file\" to become a member",
                         p->file, who);
                return BOOT_STOP;
            }
            margo_warning(mid,
                          "[flockd] provider \"%s\": none of the %zu member(s) listed in \"%s\" "
                          "answers; starting a new group in its place",
                          p->name, n, p->file);
        }
    }
    flock_return_t fr = flock_group_view_init_from_self(mid, p->provider_id, view);
    if (fr != FLOCK_SUCCESS) {
        snprintf(why, whysize, "flock_group_view_init_from_self: %s", flockd__strerror(fr));
        return BOOT_NEXT;
    }
    return BOOT_OK;
}

/* Contract: builds the initial view for one bootstrap method. On failure
 * the reason is in why (view left empty) and the result says whether the
 * next method may be tried. */
static boot_result flockd__bootstrap_view(margo_instance_id mid, bool* mpi_initialized_here,
                                          const flockd_provider_config* p,
                                          flockd_bootstrap method, flock_group_view_t* view,
                                          char* why, size_t whysize)
{
    flock_return_t fr = FLOCK_SUCCESS;
    switch (method) {
    case FLOCKD_BOOTSTRAP_SELF:
        return flockd__bootstrap_self(mid, p, view, why, whysize);
    case FLOCKD_BOOTSTRAP_JOIN:
    case FLOCKD_BOOTSTRAP_FILE:
        /* listed or not, the view of the file: a listed provider takes its
         * place again (a restart), another one joins */
        return flockd__load_group_file(p, view, why, whysize);
    case FLOCKD_BOOTSTRAP_VIEW:
        fr = flock_group_view_from_string(p->view_json, strlen(p->view_json), view);
        if (fr != FLOCK_SUCCESS) {
            snprintf(why, whysize, "inline view: %s", flockd__strerror(fr));
            return BOOT_NEXT;
        }
        return BOOT_OK;
    case FLOCKD_BOOTSTRAP_MPI:
#ifdef FLOCK_HAVE_MPI
        return flockd__bootstrap_mpi(mpi_initialized_here, p, mid, view, why, whysize) == 0
                 ? BOOT_OK
                 : BOOT_NEXT;
#else
        (void)mpi_initialized_here;
        snprintf(why, whysize, "flockd was built without MPI");
        return BOOT_NEXT;
#endif
    default:
        snprintf(why, whysize, "unknown bootstrap method");
        return BOOT_NEXT;
    }
}

/* Contract: registers provider p with view (consumed). A failure with a
 * view read from the group file stops (the group exists and could not be
 * joined or rejoined: writing a new group there would split it). */
static boot_result flockd__register(margo_instance_id mid, const flockd_provider_config* p,
                                    flockd_bootstrap method, flock_group_view_t* view,
                                    flock_provider_t* out, char* why, size_t whysize)
{
    const char* mname  = flockd__bootstrap_name(method);
    bool        listed = flock_group_view_members_binary_search(view, frt_self_addr_str(mid),
                                                                p->provider_id)
                    >= 0;
    struct flock_provider_args args = FLOCK_PROVIDER_ARGS_INIT;
    args.initial_view               = view;
    margo_debug(mid, "[flockd] provider \"%s\": bootstrap \"%s\": initial view of %zu member(s), %s",
                p->name, mname, (size_t)view->members.size,
                listed ? "this provider included" : "joining");
    if (listed && (method == FLOCKD_BOOTSTRAP_JOIN || method == FLOCKD_BOOTSTRAP_FILE))
        margo_info(mid, "[flockd] provider \"%s\": listed in \"%s\": taking its place again",
                   p->name, p->file);
    flock_return_t fr = flock_provider_register(mid, p->provider_id, p->config_json, &args, out);
    if (fr == FLOCK_SUCCESS) {
        margo_info(mid, "[flockd] provider \"%s\" (id %u, %s backend) started with bootstrap \"%s\"%s%s",
                   p->name, (unsigned)p->provider_id, p->backend, mname,
                   p->file ? ", group file " : "", p->file ? p->file : "");
        return BOOT_OK;
    }
    bool from_file = method == FLOCKD_BOOTSTRAP_JOIN || method == FLOCKD_BOOTSTRAP_FILE;
    if (from_file)
        snprintf(why, whysize, "%s the group of \"%s\" failed: %s (see the errors above)",
                 listed ? "rejoining" : "joining", p->file, flockd__strerror(fr));
    else
        snprintf(why, whysize, "flock_provider_register: %s", flockd__strerror(fr));
    return from_file ? BOOT_STOP : BOOT_NEXT;
}

int flockd__start_provider(margo_instance_id mid, bool* mpi_initialized_here,
                           const flockd_provider_config* p, flock_provider_t* out)
{
    char why[1024] = "no bootstrap method";
    for (size_t i = 0; i < p->num_bootstrap; i++) {
        flock_group_view_t view   = FLOCK_GROUP_VIEW_INITIALIZER;
        flockd_bootstrap   method = p->bootstrap[i];
        const char*        mname  = flockd__bootstrap_name(method);
        boot_result r = flockd__bootstrap_view(mid, mpi_initialized_here, p, method, &view, why,
                                               sizeof why);
        if (r == BOOT_OK) r = flockd__register(mid, p, method, &view, out, why, sizeof why);
        flock_group_view_clear(&view);
        if (r == BOOT_OK) return 0;
        if (r == BOOT_NEXT && i + 1 < p->num_bootstrap) {
            margo_warning(mid, "[flockd] provider \"%s\": bootstrap \"%s\" failed (%s); trying \"%s\"",
                          p->name, mname, why, flockd__bootstrap_name(p->bootstrap[i + 1]));
            continue;
        }
        margo_error(mid, "[flockd] provider \"%s\": bootstrap \"%s\" failed: %s", p->name, mname,
                    why);
        return -1;
    }
    return -1;
}
