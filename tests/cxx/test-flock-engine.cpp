// test-flock-engine.cpp -- Flock's C++ classes built from a thallium::engine
// (FACES-SPEC 3.2): Provider(engine, id, config, view), Client(engine),
// makeGroupHandle through the engine's lookup, Client::engine() sharing the
// instance, the margo_instance_id constructors still working, a provider
// that outlives its engine's instance, group handles over two engines, and
// the GroupHandle methods over flock_group_metadata_set / _subscribe.
#include <catch2/catch.hpp>
#include <flock/cxx/client.hpp>
#include <flock/cxx/server.hpp>
#include <flock/flock-bootstrap.h>

static const char* kStatic = "{\"group\":{\"type\":\"static\"}}";

TEST_CASE("a provider and a client built from thallium engines", "[flock]")
{
    tl::engine       engine("na+sm", THALLIUM_SERVER_MODE);
    flock::GroupView view;
    std::string      self = static_cast<std::string>(engine.self());
    view.members().add(self.c_str(), 42);
    view.metadata().add("face", "c++");
    flock::Provider provider(engine, 42, kStatic, view);
    CHECK(view.members().count() == 0); // consumed
    CHECK(provider.handle() != FLOCK_PROVIDER_NULL);
    CHECK(provider.config().find("static") != std::string::npos);

    tl::engine    client_engine("na+sm", THALLIUM_CLIENT_MODE);
    flock::Client client(client_engine);
    CHECK(client.engine().get_margo_instance() == client_engine.get_margo_instance());
    tl::endpoint       ep = client_engine.lookup(self);
    flock::GroupHandle gh = client.makeGroupHandle(ep.get_addr(), 42, 0);
    gh.update();
    flock::GroupView seen = gh.view();
    REQUIRE(seen.members().count() == 1);
    CHECK(seen.members()[0].address == self);
    CHECK(seen.members()[0].provider_id == 42);
    CHECK(std::string(seen.metadata()["face"]) == "c++");
    std::string json = seen;
    CHECK(json.find(self) != std::string::npos);

    flock::GroupHandle by_string = client.makeGroupHandle(self, 42, FLOCK_MODE_INIT_UPDATE);
    CHECK(by_string.view().digest() == seen.digest());
    // a bad address or a dead peer: the engine's exception, as upstream
    CHECK_THROWS_AS(client.makeGroupHandle(std::string("na+sm://1-4242"), 42), tl::exception);
    CHECK_THROWS_AS(client.makeGroupHandle(std::string("nonsense"), 42), tl::exception);
    // a provider id nobody serves
    CHECK_THROWS_AS(client.makeGroupHandle(self, 43, FLOCK_MODE_INIT_UPDATE), flock::Exception);
}

TEST_CASE("an explicit pool and the margo_instance_id constructors", "[flock]")
{
    tl::engine engine("na+sm", THALLIUM_SERVER_MODE);
    ABT_pool   p = ABT_POOL_NULL;
    REQUIRE(margo_get_handler_pool(engine.get_margo_instance(), &p) == HG_SUCCESS);
    flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
    REQUIRE(flock_group_view_init_from_self(engine.get_margo_instance(), 5, &v) == FLOCK_SUCCESS);
    flock::GroupView view(v);
    flock::Provider  provider(engine, 5, kStatic, view, tl::pool(p));
    CHECK(tl::pool(p).native_handle() == p);
    CHECK(tl::pool().native_handle() == ABT_POOL_NULL);

    margo_instance_id mid = engine.get_margo_instance();
    flock::Client     client(mid); // the C form
    CHECK(client.mid() == mid);
    CHECK(client.engine().get_margo_instance() == mid);
    flock::GroupHandle gh = client.makeGroupHandle(static_cast<std::string>(engine.self()), 5,
                                                   FLOCK_MODE_INIT_UPDATE);
    CHECK(gh.view().members().count() == 1);
    flock::Client moved(std::move(client));
    CHECK(moved.engine().get_margo_instance() == mid);
}

TEST_CASE("a provider outliving its engine's instance", "[flock][lifetime]")
{
    flock::Provider keep;
    {
        tl::engine       engine("na+sm", THALLIUM_SERVER_MODE);
        flock::GroupView view;
        view.members().add(static_cast<std::string>(engine.self()).c_str(), 1);
        keep = flock::Provider(engine, 1, kStatic, view);
        CHECK(keep.handle() != FLOCK_PROVIDER_NULL);
    } // the last engine copy finalizes the instance; the provider learns it
    CHECK(keep.handle() == FLOCK_PROVIDER_NULL);
}

TEST_CASE("GroupHandle metadata and subscriptions call the C API", "[flock]")
{
    tl::engine       engine("na+sm", THALLIUM_SERVER_MODE);
    std::string      self = static_cast<std::string>(engine.self());
    flock::GroupView view;
    view.members().add(self.c_str(), 9);
    flock::Provider    provider(engine, 9, kStatic, view);
    flock::Client      client(engine);
    flock::GroupHandle gh = client.makeGroupHandle(self, 9, FLOCK_MODE_INIT_UPDATE);
    try {
        gh.setMetadata("k", "v");
        FAIL("a static group accepted metadata");
    } catch (const flock::Exception& e) {
        CHECK(e.code() == FLOCK_ERR_OP_FORBIDDEN);
    }
    CHECK_THROWS_AS(gh.removeMetadata("__reserved"), flock::Exception);
    struct Seen {
        int members = 0;
    } seen;
    gh.subscribe([](void* ctx, flock_update_t, const char*, uint16_t) { static_cast<Seen*>(ctx)->members++; },
                 nullptr, &seen);
    CHECK_THROWS_AS(gh.subscribe(nullptr, nullptr, nullptr), flock::Exception); // already subscribed
    gh.unsubscribe();
}
