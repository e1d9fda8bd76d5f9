// tutorial-server.cpp -- a server written as in Thallium's tutorials: RPCs
// defined on the engine (provider id 0) and two instances of a provider
// class (ids 22 and 23) whose methods are RPCs; deleted by finalize
// callbacks; a "shutdown" RPC finalizes the engine while main waits.
//   tutorial-server <protocol> <address-file>
#include <thallium.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>
#include <string>
#include <vector>

struct point {
    double      x = 0, y = 0;
    std::string name;
    template <typename A> void serialize(A& ar) { ar & x & y & name; }
};

class my_sum_provider : public tl::provider<my_sum_provider> {
  public:
    my_sum_provider(const tl::engine& e, uint16_t provider_id)
    : tl::provider<my_sum_provider>(e, provider_id), m_prod_rpc(define("prod", &my_sum_provider::prod))
    {
        define("sum", &my_sum_provider::sum);
        define("mean", &my_sum_provider::mean);
        define("log", &my_sum_provider::log, tl::ignore_return_value());
    }

  private:
    int sum(int x, int y) const { return x + y + 100 * get_provider_id(); }
    void prod(const tl::request& req, int x, int y) const { req.respond(x * y); }
    double mean(const std::vector<double>& v) const
    {
        return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
    }
    int log(const std::string& line) const
    {
        std::cout << "provider " << get_provider_id() << " log: " << line << std::endl;
        return 0;
    }
    tl::auto_remote_procedure m_prod_rpc;
};

int main(int argc, char** argv)
{
    if (argc != 3) {
        std::cerr << "usage: " << argv[0] << " <protocol> <address-file>\n";
        return 2;
    }
    try {
        tl::engine myEngine(argv[1], THALLIUM_SERVER_MODE);
        myEngine.define("hello", [](const tl::request& req, const std::string& name) {
            req.respond("Hello, " + name + "!");
        });
        myEngine.define("word_count", [](const tl::request& req, const std::vector<std::string>& words) {
            std::map<std::string, int> counts;
            for (const auto& w : words) counts[w]++;
            req.respond(counts);
        });
        myEngine.define("midpoint", [](const tl::request& req, const point& a, const point& b) {
            req.respond(point{(a.x + b.x) / 2, (a.y + b.y) / 2, a.name + "-" + b.name},
                        std::make_pair(a.name.size(), b.name.size()));
        });
        myEngine.define("shutdown", [&myEngine](const tl::request& req) {
            req.respond();
            myEngine.finalize();
        });
        auto* p22 = new my_sum_provider(myEngine, 22);
        auto* p23 = new my_sum_provider(myEngine, 23);
        myEngine.push_finalize_callback(p22, [p22]() { delete p22; });
        myEngine.push_finalize_callback(p23, [p23]() { delete p23; });

        std::string   addr = static_cast<std::string>(myEngine.self());
        std::string   tmp  = std::string(argv[2]) + ".tmp";
        std::ofstream(tmp) << addr << "\n";
        std::rename(tmp.c_str(), argv[2]);
        std::cout << "Server running at address " << myEngine.self() << std::endl;
        myEngine.wait_for_finalize();
        std::cout << "Server finalized" << std::endl;
    } catch (const tl::exception& e) {
        std::cerr << "tutorial-server: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
