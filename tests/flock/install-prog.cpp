// install-prog.cpp -- a C++ program compiled by test-install.sh against the
// INSTALLED headers and libraries:
//     c++ -std=c++17 install-prog.cpp $(pkg-config --cflags --libs flock-server)
#include <cstdio>
#include <string>
#include <flock/cxx/client.hpp>
#include <flock/cxx/server.hpp>
#include <flock/flock-bootstrap.h>

int main()
{
    margo_instance_id mid = margo_init("na+sm", MARGO_SERVER_MODE, 0, 0);
    if (!mid) return 1;
    int status = 0;
    try {
        flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
        FLOCK_CONVERT_AND_THROW(flock_group_view_init_from_self(mid, 7, &v));
        flock::GroupView view(v);
        view.metadata().add("lang", "c++");
        flock::Provider    provider(mid, 7, "{\"group\":{\"type\":\"static\"}}", view);
        flock::Client      client(mid);
        flock::GroupHandle group = client.makeGroupHandle(std::string(frt_self_addr_str(mid)), 7,
                                                          FLOCK_MODE_INIT_UPDATE);
        flock::GroupView   seen  = group.view();
        std::string        json  = seen;
        std::printf("installed C++ program: %s\n", json.c_str());
        if (seen.members().count() != 1 || !seen.metadata()["lang"]) status = 2;
    } catch (const flock::Exception& e) {
        std::fprintf(stderr, "flock error: %s\n", e.what());
        status = 3;
    }
    margo_finalize(mid);
    return status;
}
