// tutorial-client.cpp -- the client of tutorial-server.cpp, in a second
// process: calls with arguments and return values at provider ids 0, 22
// and 23, a user type, a map, several return values, a call to a provider
// id nobody serves, then asks the server to shut down.
//   tutorial-client <protocol> <server-address>
#include <thallium.hpp>
#include <iostream>
#include <map>
#include <string>
#include <vector>

struct point {
    double      x = 0, y = 0;
    std::string name;
    template <typename A> void serialize(A& ar) { ar & x & y & name; }
};

int main(int argc, char** argv)
{
    if (argc != 3) {
        std::cerr << "usage: " << argv[0] << " <protocol> <server-address>\n";
        return 2;
    }
    int status = 0;
    auto expect = [&status](bool ok, const char* what) {
        std::cout << (ok ? "ok   " : "FAIL ") << what << std::endl;
        if (!ok) status = 1;
    };
    try {
        tl::engine           myEngine(argv[1], THALLIUM_CLIENT_MODE);
        tl::remote_procedure sum   = myEngine.define("sum");
        tl::remote_procedure prod  = myEngine.define("prod");
        tl::remote_procedure mean  = myEngine.define("mean");
        tl::remote_procedure hello = myEngine.define("hello");
        tl::endpoint         server = myEngine.lookup(argv[2]);
        tl::provider_handle  ph22(server, 22), ph23(server, 23);

        int s22 = sum.on(ph22)(42, 63);
        int s23 = sum.on(ph23)(42, 63);
        std::cout << "sum at 22: " << s22 << ", at 23: " << s23 << std::endl;
        expect(s22 == 2305 && s23 == 2405, "sum(42, 63) at providers 22 and 23");
        expect(int(prod.on(ph23)(6, 7)) == 42, "prod(6, 7)");
        expect(double(mean.on(ph22)(std::vector<double>{1, 2, 3, 4})) == 2.5, "mean of a vector");
        std::string greeting = hello.on(server)(std::string("Matthieu"));
        std::cout << greeting << std::endl;
        expect(greeting == "Hello, Matthieu!", "hello at provider 0");
        std::map<std::string, int> counts =
            myEngine.define("word_count").on(server)(std::vector<std::string>{"a", "b", "a"});
        expect(counts == std::map<std::string, int>{{"a", 2}, {"b", 1}}, "word_count returns a map");
        auto [mid, lens] = myEngine.define("midpoint")
                               .on(server)(point{0, 0, "o"}, point{2, 4, "far"})
                               .as<point, std::pair<size_t, size_t>>();
        expect(mid.x == 1 && mid.y == 2 && mid.name == "o-far" && lens.first == 1 && lens.second == 3,
               "midpoint returns a user type and a pair");
        myEngine.define("log").on(ph22)(std::string("from the client"));
        expect(true, "log (return value ignored)");
        bool refused = false;
        try {
            sum.on(tl::provider_handle(server, 24))(1, 2);
        } catch (const tl::margo_exception& e) {
            refused = e.error() == HG_NOENTRY;
            std::cout << "provider 24: " << e.what() << std::endl;
        }
        expect(refused, "no provider 24");
        myEngine.define("shutdown").on(server)();
        expect(true, "shutdown");
    } catch (const tl::exception& e) {
        std::cerr << "tutorial-client: " << e.what() << "\n";
        return 1;
    }
    return status;
}
