// test-cxx.cpp -- the C++ wrappers (flock/cxx/*.hpp): Exception, GroupView,
// GroupHandle, Client, Provider, Observer; server.hpp and client.hpp in
// one translation unit (upstream shared an include guard); an Observer
// subclass can be constructed; a Provider outliving margo_finalize and a
// moved Provider are handled (upstream's move dropped the instance).
#include <flock/cxx/client.hpp>
#include <flock/cxx/exception.hpp>
#include <flock/cxx/group-view.hpp>
#include <flock/cxx/group.hpp>
#include <flock/cxx/server.hpp>
#include <atomic>
#include <cstring>
#include <string>
#include "flock-core-test.h"
#include "dyn-backend.h"

struct CountingObserver : flock::Observer {
    std::atomic<int> members{0}, metadata{0};
    std::string      last;
    void onMembershipUpdate(flock_update_t, const char* address, uint16_t) override
    {
        members++;
        last = address;
    }
    void onMetadataUpdate(const char*, const char*) override { metadata++; }
};

template <typename F> static int throws_code(F f)
{
    try {
        f();
    } catch (const flock::Exception& e) {
        return e.code();
    }
    return -1;
}

static void test_exception_and_view()
{
    CHECK_EQ_STR(flock::Exception(FLOCK_ERR_INVALID_ARGS).what(), "Invalid argument");
    CHECK_EQ_INT(throws_code([] { FLOCK_CONVERT_AND_THROW(FLOCK_ERR_OTHER); }), FLOCK_ERR_OTHER);
    CHECK_EQ_INT(throws_code([] { FLOCK_CONVERT_AND_THROW(FLOCK_SUCCESS); }), -1);

    flock::GroupView v;
    v.members().add("na+sm://1234-0", 2);
    v.members().add("na+sm://1234-0", 1);
    v.metadata().add("k", "v");
    CHECK(v.digest() == 0x0000000000170617ull);
    CHECK_EQ_INT(v.members().count(), 2);
    CHECK_EQ_INT(v.members()[0].provider_id, 1);
    CHECK(v.members().exists("na+sm://1234-0", 2));
    CHECK_EQ_STR(v.metadata()["k"], "v");
    CHECK(v.metadata()["nope"] == nullptr);
    flock::GroupView::Metadata md0 = v.metadata()[size_t(0)];
    CHECK_EQ_STR(md0.value.c_str(), "v");
    bool oor = false;
    try {
        (void)v.members()[5];
    } catch (const std::out_of_range&) {
        oor = true;
    }
    CHECK(oor);
    CHECK_EQ_INT(throws_code([&] { v.members().remove(7); }), FLOCK_ERR_NO_MEMBER);
    CHECK_EQ_INT(throws_code([&] { v.members().remove("x", 1); }), FLOCK_ERR_NO_MEMBER);
    std::string text = v;
    CHECK_EQ_STR(text.c_str(), "{\"members\":[{\"address\":\"na+sm://1234-0\",\"provider_id\":1},"
                               "{\"address\":\"na+sm://1234-0\",\"provider_id\":2}],"
                               "\"metadata\":{\"k\":\"v\"}}");
    flock::GroupView c = v.copy();
    CHECK(c.digest() == v.digest());
    c.members().remove(size_t(0));
    c.metadata().remove("k");
    c.metadata().remove("absent");
    CHECK(c.digest() == flock_hash_member(2, "na+sm://1234-0"));
    flock::GroupView moved(std::move(c));
    CHECK(c.digest() == 0 && moved.members().count() == 1);
    c = std::move(moved);
    CHECK(c.members().count() == 1 && moved.members().count() == 0);
    v.lock();
    v.unlock();
    v.clear();
    CHECK(v.digest() == 0);
}

static void test_provider_client(margo_instance_id mid)
{
    flock_group_view_t cv = FLOCK_GROUP_VIEW_INITIALIZER;
    REQUIRE(flock_group_view_init_from_self(mid, 1, &cv) == FLOCK_SUCCESS);
    flock::GroupView gv(cv); /* adopts the content: cv must not be cleared */
    CHECK_EQ_INT(gv.members().count(), 1);
    flock::Provider p(mid, 1, "{\"group\":{\"type\":\"static\"}}", gv);
    CHECK(gv.members().count() == 0); /* consumed */
    std::string conf = p.config();
    CHECK_EQ_STR(conf.c_str(), "{\"gateway\":{\"type\":\"default\",\"config\":{}},"
                               "\"group\":{\"type\":\"static\",\"config\":{}}}");
    flock::GroupView again;
    CHECK_EQ_INT(throws_code([&] { flock::Provider dup(mid, 1, "{\"group\":{\"type\":\"static\"}}", again); }),
                 FLOCK_ERR_INVALID_PROVIDER);

    flock::Client     client(mid);
    flock::GroupHandle h = client.makeGroupHandle(std::string(frt_self_addr_str(mid)), 1,
                                                  FLOCK_MODE_INIT_UPDATE);
    flock::GroupView   hv = h.view();
    CHECK_EQ_INT(hv.members().count(), 1);
    CHECK_EQ_STR(hv.metadata()["__type__"], "static");
    h.update();
    flock::GroupHandle copy = h; /* refcounted */
    flock::GroupHandle moved(std::move(copy));
    CHECK(copy.handle() == nullptr && moved.handle() == h.handle());
    std::string        json = hv;
    flock::GroupHandle fs   = flock::GroupHandle::FromSerialized(client, json, FLOCK_MODE_INIT_UPDATE);
    CHECK(fs.view().digest() == hv.digest());
    CHECK_EQ_INT(throws_code([&] { flock::GroupHandle::FromSerialized(client, "{}"); }),
                 FLOCK_ERR_INVALID_CONFIG);
    CHECK_EQ_INT(throws_code([&] { client.makeGroupHandle(std::string(frt_self_addr_str(mid)), 99); }),
                 FLOCK_ERR_INVALID_PROVIDER);
    hg_addr_t self;
    REQUIRE(margo_addr_self(mid, &self) == HG_SUCCESS);
    flock::GroupHandle direct(client, self, 1, false);
    CHECK_EQ_INT(direct.view().members().count(), 1);
    margo_addr_free(mid, self);

    /* a file written by a provider, read with FromFile */
    const char*      file = fct_path("cxx.flock");
    std::string      cfg  = std::string("{\"file\":\"") + file + "\",\"group\":{\"type\":\"dyn\"}}";
    REQUIRE(flock_register_backend(&dyn_backend) == FLOCK_SUCCESS);
    flock::GroupView empty;
    flock::Provider  dp(mid, 2, cfg.c_str(), empty);
    dyn_state*       s = last_dyn;
    REQUIRE(s);
    flock::GroupHandle ff = flock::GroupHandle::FromFile(client, std::string(file));
    CHECK(ff.view().members().count() == 1);

    /* observers: constructible, called, removable */
    CountingObserver obs;
    dp.addObserver(&obs);
    dyn_join(s, "zz://joiner", 5);
    dyn_set_md(s, "k", "v");
    CHECK_EQ_INT(obs.members.load(), 1);
    CHECK_EQ_INT(obs.metadata.load(), 1);
    CHECK_EQ_STR(obs.last.c_str(), "zz://joiner");
    dp.removeObserver(&obs);
    dyn_leave(s, "zz://joiner", 5);
    CHECK_EQ_INT(obs.members.load(), 1);
    CHECK_EQ_INT(throws_code([&] { dp.removeObserver(&obs); }), FLOCK_ERR_INVALID_ARGS);

    /* moves keep the instance: destroying the moved-to provider works */
    flock::Provider moved_p(std::move(dp));
    CHECK(dp.handle() == nullptr);
    CHECK(moved_p.handle() != nullptr);
    flock::Provider assigned;
    assigned = std::move(moved_p);
    CHECK(assigned.handle() != nullptr);
    CHECK_EQ_STR(margo_provider_registered_identity(mid, 2), "flock");
}

int main()
{
    margo_set_global_log_level(MARGO_LOG_CRITICAL);
    test_exception_and_view();
    margo_instance_id mid = margo_init("na+sm", MARGO_SERVER_MODE, 0, 0);
    REQUIRE(mid);
    test_provider_client(mid);
    CHECK(margo_provider_registered_identity(mid, 1) == nullptr);
    CHECK(margo_provider_registered_identity(mid, 2) == nullptr);
    {
        /* a Provider object outliving margo_finalize: no double destroy */
        flock_group_view_t self_view = FLOCK_GROUP_VIEW_INITIALIZER;
        REQUIRE(flock_group_view_init_from_self(mid, 3, &self_view) == FLOCK_SUCCESS);
        flock::GroupView v(self_view);
        flock::Provider  p(mid, 3, "{\"group\":{\"type\":\"static\"}}", v);
        flock::Provider  q(std::move(p));
        margo_finalize(mid);
        CHECK(q.handle() == nullptr);
    }
    return FT_DONE();
}
