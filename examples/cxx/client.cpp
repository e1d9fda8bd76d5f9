// client.cpp -- prints a Flock group from a Thallium engine in client mode:
// a group handle on (address, provider id), refreshed once, its view as
// JSON and one line per member.
//   flock-cxx-client <protocol> <address> [provider-id]
#include <thallium.hpp>
#include <flock/cxx/client.hpp>
#include <iostream>
#include <string>

int main(int argc, char** argv)
{
    if (argc < 3) {
        std::cerr << "usage: " << argv[0] << " <protocol> <address> [provider-id]\n";
        return 2;
    }
    uint16_t provider_id = argc > 3 ? uint16_t(std::stoi(argv[3])) : 42;
    try {
        tl::engine         engine(argv[1], THALLIUM_CLIENT_MODE);
        flock::Client      client(engine);
        tl::endpoint       ep = engine.lookup(argv[2]);
        flock::GroupHandle group = client.makeGroupHandle(ep.get_addr(), provider_id, 0);
        group.update();
        flock::GroupView view = group.view();
        std::cout << static_cast<std::string>(view) << std::endl;
        for (size_t i = 0; i < view.members().count(); i++)
            std::cout << "member " << i << ": " << view.members()[i].address << " provider "
                      << view.members()[i].provider_id << std::endl;
    } catch (const std::exception& e) {
        std::cerr << argv[0] << ": " << e.what() << "\n";
        return 1;
    }
    return 0;
}
