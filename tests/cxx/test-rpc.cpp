// test-rpc.cpp -- the RPC face of thallium.hpp in one process (calls to
// oneself go through the runtime like any other): define / on / respond,
// provider ids and provider<T>, several return values, deferred and
// missing responses, handlers that throw or get undecodable arguments,
// timed and async calls, deregistration, engine copies and finalize
// callbacks, endpoints, lookup failures, a second engine talking to the first.
#include <catch2/catch.hpp>
#include <thallium.hpp>
#include <atomic>
#include <sstream>
#include <thread>

namespace {

struct Item {
    std::string          name;
    std::vector<int64_t> values;
    template <typename A> void serialize(A& ar) { ar & name & values; }
};

class Calculator : public tl::provider<Calculator> {
  public:
    Calculator(const tl::engine& e, uint16_t id)
    : tl::provider<Calculator>(e, id), m_prod(define("calc_prod", &Calculator::prod))
    {
        define("calc_sum", &Calculator::sum);
        define("calc_id", &Calculator::id);
        define("calc_note", &Calculator::note, tl::ignore_return_value());
    }
    std::atomic<int> notes{0};

  private:
    int      sum(int a, int b) { return a + b + get_provider_id() * 1000; }
    void     prod(const tl::request& req, int a, int b) const { req.respond(a * b); }
    uint16_t id(const tl::request& req) { return req.get_provider_id(); }
    int      note(const std::string&) { return ++notes; }

    tl::auto_remote_procedure m_prod;
};

} // namespace

TEST_CASE("define, call and respond on one engine", "[rpc]")
{
    tl::engine engine("na+sm", THALLIUM_SERVER_MODE);
    REQUIRE(engine.get_margo_instance() != MARGO_INSTANCE_NULL);
    engine.define("add", [](const tl::request& req, int a, int b) { req.respond(a + b); });
    engine.define("concat", [](const tl::request& req, const std::vector<std::string>& v) {
        std::string all;
        for (const auto& s : v) all += s;
        req.respond(all, v.size());
    });
    engine.define("item", [](const tl::request& req, Item it, std::map<std::string, int> m) {
        it.values.push_back(m.at("extra"));
        req.respond(it);
    });
    engine.define("nothing", [](const tl::request&) {});
    tl::endpoint self = engine.lookup(static_cast<std::string>(engine.self()));

    int sum = engine.define("add").on(self)(40, 2);
    CHECK(sum == 42);
    auto [all, count] = engine.define("concat").on(self)(std::vector<std::string>{"a", "b", "c"})
                            .as<std::string, size_t>();
    CHECK(all == "abc");
    CHECK(count == 3);
    Item in{"n", {1, 2}};
    Item out = engine.define("item").on(self)(in, std::map<std::string, int>{{"extra", 3}});
    CHECK(out.name == "n");
    CHECK(out.values == std::vector<int64_t>{1, 2, 3});
    tl::packed_data empty = engine.define("nothing").on(self)();
    CHECK(empty.size() == 0);
    CHECK_THROWS_AS(empty.as<int>(), tl::exception);
    CHECK(engine.define("concat").on(self)(std::vector<std::string>{"x"}).as<std::string, size_t>()
          == std::make_tuple(std::string("x"), size_t(1)));
}

TEST_CASE("provider ids and provider<T>", "[rpc]")
{
    tl::engine engine("na+sm", THALLIUM_SERVER_MODE);
    auto*      c1   = new Calculator(engine, 1);
    Calculator c2(engine, 2);
    tl::endpoint self = engine.self();
    tl::remote_procedure sum = engine.define("calc_sum");
    CHECK(int(sum.on(tl::provider_handle(self, 1))(1, 2)) == 1003);
    CHECK(int(sum.on(tl::provider_handle(self, 2))(1, 2)) == 2003);
    CHECK(int(engine.define("calc_prod").on(tl::provider_handle(self, 2))(6, 7)) == 42);
    CHECK(uint16_t(engine.define("calc_id").on(tl::provider_handle(self, 2))()) == 2);
    tl::packed_data none = engine.define("calc_note").on(tl::provider_handle(self, 1))(std::string("x"));
    CHECK(none.size() == 0);
    CHECK(c1->notes == 1);
    // no provider 3; provider 0 has no calc_sum
    CHECK_THROWS_AS(sum.on(tl::provider_handle(self, 3))(1, 2), tl::margo_exception);
    CHECK_THROWS_AS(sum.on(self)(1, 2), tl::margo_exception);
    try {
        sum.on(tl::provider_handle(self, 3))(1, 2);
    } catch (const tl::margo_exception& e) {
        CHECK(e.error() == HG_NOENTRY);
        CHECK(std::string(e.what()).find("calc_sum") != std::string::npos);
    }
    // deleting a provider deregisters its RPCs
    delete c1;
    CHECK_THROWS_AS(sum.on(tl::provider_handle(self, 1))(1, 2), tl::margo_exception);
    CHECK(int(sum.on(tl::provider_handle(self, 2))(1, 2)) == 2003);
    // the same name twice at one provider id is refused
    CHECK_THROWS_AS(engine.define("calc_sum", [](const tl::request&) {}, 2), tl::margo_exception);
}

TEST_CASE("handler failures reach the caller as exceptions", "[rpc][hostile]")
{
    tl::engine engine("na+sm", THALLIUM_SERVER_MODE);
    engine.define("throws", [](const tl::request&, int) { throw std::runtime_error("boom"); });
    engine.define("twice", [](const tl::request& req) {
        req.respond(1);
        CHECK_THROWS_AS(req.respond(2), tl::exception);
    });
    engine.define("wants_string", [](const tl::request& req, const std::string& s) { req.respond(s); });
    tl::endpoint self = engine.self();
    try {
        engine.define("throws").on(self)(1);
        FAIL("no exception");
    } catch (const tl::margo_exception& e) {
        CHECK(e.error() == HG_OTHER_ERROR);
    }
    CHECK(int(engine.define("twice").on(self)()) == 1);
    // an int where a string is expected: 4 bytes that announce a longer string
    try {
        engine.define("wants_string").on(self)(int32_t(1000));
        FAIL("no exception");
    } catch (const tl::margo_exception& e) {
        CHECK(e.error() == HG_PROTOCOL_ERROR);
    }
    // trailing bytes are refused too
    CHECK_THROWS_AS(engine.define("wants_string").on(self)(std::string("a"), 5), tl::margo_exception);
    // a response decoded as the wrong type
    CHECK(std::string(engine.define("wants_string").on(self)(std::string("abc"))) == "abc");
    tl::packed_data one = engine.define("wants_string").on(self)(std::string(""));
    CHECK_THROWS_AS((one.as<std::string, int>()), tl::exception);
}

TEST_CASE("deferred responses, timed and async calls", "[rpc]")
{
    tl::engine               engine("na+sm", THALLIUM_SERVER_MODE);
    std::mutex               lock;
    std::vector<tl::request> parked;
    engine.define("park", [&](const tl::request& req) {
        std::lock_guard<std::mutex> g(lock);
        parked.push_back(req); // answered later, from the test thread
    });
    engine.define("echo", [](const tl::request& req, double d) { req.respond(d); });
    tl::endpoint self = engine.self();

    tl::async_response a = engine.define("park").on(self).async();
    for (int i = 0; i < 2000; i++) {
        {
            std::lock_guard<std::mutex> g(lock);
            if (!parked.empty()) break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    CHECK_FALSE(a.received());
    {
        std::lock_guard<std::mutex> g(lock);
        REQUIRE(parked.size() == 1);
        parked[0].respond(std::string("later"));
        parked.clear();
    }
    CHECK(std::string(a.wait()) == "later");

    // a parked request nobody answers times out at the caller
    CHECK_THROWS_AS(engine.define("park").on(self).timed(std::chrono::milliseconds(200)), tl::timeout);
    {
        std::lock_guard<std::mutex> g(lock);
        parked.clear(); // dropping the last copy answers (late, ignored)
    }
    CHECK(double(engine.define("echo").on(self).timed(std::chrono::seconds(30), 2.5)) == 2.5);

    std::vector<tl::async_response> many;
    for (int i = 0; i < 20; i++) many.push_back(engine.define("echo").on(self).async(double(i)));
    double total = 0;
    for (auto& r : many) total += r.wait().as<double>();
    CHECK(total == 190.0);
}

TEST_CASE("a second engine calls the first; endpoints and lookup", "[rpc]")
{
    tl::engine server("na+sm", THALLIUM_SERVER_MODE);
    tl::engine client("na+sm", THALLIUM_CLIENT_MODE);
    server.define("whoami", [](const tl::request& req) {
        req.respond(static_cast<std::string>(req.get_endpoint()));
    });
    std::string  addr = static_cast<std::string>(server.self());
    tl::endpoint ep   = client.lookup(addr);
    CHECK(static_cast<std::string>(ep) == addr);
    std::ostringstream os;
    os << ep;
    CHECK(os.str() == addr);
    tl::endpoint copy = ep;
    CHECK(copy == ep);
    CHECK(std::string(client.define("whoami").on(ep)()) == static_cast<std::string>(client.self()));
    CHECK(static_cast<std::string>(tl::endpoint()) == "");
    CHECK(tl::endpoint().is_null());
    hg_addr_t dup = ep.get_addr(true);
    CHECK(dup != ep.get_addr());
    margo_addr_free(client.get_margo_instance(), dup);

    CHECK_THROWS_AS(client.lookup("not-an-address"), tl::exception);
    CHECK_THROWS_AS(client.lookup("na+sm://1-12345"), tl::exception); // nobody there
    CHECK_THROWS_AS(tl::engine("bogus://", THALLIUM_SERVER_MODE), tl::exception);
    CHECK_THROWS_AS(tl::engine("na+sm", 7), tl::exception);
    CHECK_THROWS_AS(tl::engine().self(), tl::exception);
    CHECK(tl::engine().get_margo_instance() == MARGO_INSTANCE_NULL);
}

TEST_CASE("engine copies, finalize callbacks and deregistration", "[rpc][lifetime]")
{
    std::vector<int> order;
    {
        tl::engine a("na+sm", THALLIUM_SERVER_MODE);
        tl::engine b = a; // shared
        CHECK(b.get_margo_instance() == a.get_margo_instance());
        int owner = 0;
        a.push_finalize_callback([&] { order.push_back(1); });
        a.push_finalize_callback(&owner, [&] { order.push_back(2); });
        a.push_finalize_callback(&owner, [&] { order.push_back(3); });
        CHECK(b.pop_finalize_callback(&owner)); // removes 3
        // a handler using the engine (by reference: a copy inside a handler would
        // keep the engine alive until an explicit finalize, as in Thallium)
        b.define("self_ref", [&b](const tl::request& req) { req.respond(b.get_margo_instance() != nullptr); });
        tl::remote_procedure rp = a.define("dereg", [](const tl::request& req) { req.respond(1); });
        tl::endpoint self = a.self();
        CHECK(bool(a.define("self_ref").on(self)()));
        CHECK(int(rp.on(self)()) == 1);
        rp.deregister();
        CHECK_THROWS_AS(rp.on(self)(), tl::margo_exception);
        a = tl::engine(); // b is now the only copy
        CHECK(order.empty());
    } // last copy gone: finalized, callbacks LIFO
    CHECK(order == std::vector<int>{2, 1});

    // an engine wrapping an instance it does not own leaves it running
    margo_instance_id mid = margo_init("na+sm", MARGO_SERVER_MODE, 0, 0);
    REQUIRE(mid);
    {
        tl::engine w(mid);
        w.define("w", [](const tl::request& req) { req.respond(5); });
        CHECK(int(w.define("w").on(w.self())()) == 5);
    }
    CHECK_FALSE(frt_rpc_is_registered(mid, "w", 0)); // its handlers go with it
    {
        tl::engine w(mid);
        bool       ran = false;
        w.push_finalize_callback([&] { ran = true; });
        margo_finalize(mid); // finalized under the engine's feet
        CHECK(ran);
        CHECK_THROWS_AS(w.self(), tl::exception);
        w.wait_for_finalize(); // returns
    }

    // finalize from a handler while the main thread waits (the server pattern)
    tl::engine server("na+sm", THALLIUM_SERVER_MODE);
    tl::engine client("na+sm", THALLIUM_CLIENT_MODE);
    server.define("quit", [server](const tl::request& req) mutable {
        req.respond();
        server.finalize();
    });
    tl::endpoint ep = client.lookup(static_cast<std::string>(server.self()));
    std::thread  t([&] { client.define("quit").on(ep)(); });
    server.wait_for_finalize();
    t.join();
    CHECK_THROWS_AS(server.self(), tl::exception);
}
