// test-headers-cxx.cpp -- every public C header compiles as C++17 and the
// static-inline helpers, macros and X-macro work from C++.
#include <flock/flock-common.h>
#include <flock/flock-client.h>
#include <flock/flock-server.h>
#include <flock/flock-backend.h>
#include <flock/flock-gateway.h>
#include <flock/flock-group.h>
#include <flock/flock-group-view.h>
#include <flock/flock-bootstrap.h>
#ifdef FLOCK_TEST_WITH_MPI
#include <flock/flock-bootstrap-mpi.h>
#endif
#include <cstdio>
#include <cstring>
#include <string>

static const char* message(flock_return_t r)
{
    switch (r) {
#define X(__err__, __msg__) \
    case __err__:           \
        return __msg__;
        FLOCK_RETURN_VALUES
#undef X
    }
    return "unknown";
}

int main()
{
    int failures = 0;
#define EXPECT(c)                                                   \
    do {                                                            \
        if (!(c)) {                                                 \
            std::fprintf(stderr, "FAIL line %d: %s\n", __LINE__, #c); \
            failures++;                                             \
        }                                                           \
    } while (0)
    EXPECT(FLOCK_SUCCESS == 0 && FLOCK_ERR_OTHER == 15);
    EXPECT(std::string(message(FLOCK_ERR_FROM_MERCURY)) == "Mercurt error");
    EXPECT(std::string(message(FLOCK_ERR_NOT_A_MEMBER)) == "Process is not member");
    EXPECT(FLOCK_MEMBER_MOVED == 3 && FLOCK_MODE_INIT_UPDATE == 1 && FLOCK_MODE_SUBSCRIBE == 2);

    flock_provider_args args = FLOCK_PROVIDER_ARGS_INIT;
    EXPECT(args.initial_view == nullptr && args.backend == nullptr);
    flock_group_view_t view = FLOCK_GROUP_VIEW_INITIALIZER;
    EXPECT(flock_group_view_add_member(&view, "na+sm://1234-0", 1) != nullptr);
    EXPECT(flock_group_view_add_member(&view, "na+sm://1234-0", 2) != nullptr);
    bool ok = flock_group_view_add_metadata(&view, "k", "v");
    EXPECT(ok);
    EXPECT(flock_group_view_digest(&view) == 0x0000000000170617ull);
    flock_group_view_t copy = FLOCK_GROUP_VIEW_INITIALIZER;
    EXPECT(flock_group_view_copy(&view, &copy));
    EXPECT(copy.digest == view.digest);
    flock_group_view_t moved = FLOCK_GROUP_VIEW_INITIALIZER;
    FLOCK_GROUP_VIEW_MOVE(&copy, &moved);
    EXPECT(copy.digest == 0 && moved.members.size == 2);
    EXPECT(flock_group_view_remove_member(&moved, flock_group_view_member_at(&moved, 0)));
    EXPECT(flock_group_view_remove_metadata(&moved, "k"));
    EXPECT(std::strcmp(flock_group_view_find_metadata(&view, "k"), "v") == 0);
    EXPECT(flock_group_view_members_binary_search(&view, "na+sm://1234-0", 2) == 1);
    flock_group_view_clear_extra(&view);
    flock_group_view_clear(&view);
    flock_group_view_clear(&moved);
    flock_client_t       c = FLOCK_CLIENT_NULL;
    flock_provider_t     p = FLOCK_PROVIDER_NULL;
    flock_group_handle_t g = FLOCK_GROUP_HANDLE_NULL;
    flock_provider_t*    ign = FLOCK_PROVIDER_IGNORE;
    EXPECT(c == nullptr && p == nullptr && g == nullptr && ign == nullptr);
    return failures ? 1 : 0;
}
