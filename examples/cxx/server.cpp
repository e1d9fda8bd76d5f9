// server.cpp -- a Flock group served from a Thallium engine, in the style
// of Mochi Flock's C++ tutorial: the engine's own address is the group's
// first member (provider 42), the group file is written, and the server
// runs until it is killed (or for <seconds> when given).
//   flock-cxx-server <protocol> <group-file> [backend] [seconds]
#include <thallium.hpp>
#include <flock/cxx/server.hpp>
#include <chrono>
#include <iostream>
#include <string>
#include <thread>

int main(int argc, char** argv)
{
    if (argc < 3) {
        std::cerr << "usage: " << argv[0] << " <protocol> <group-file> [backend] [seconds]\n";
        return 2;
    }
    std::string backend = argc > 3 ? argv[3] : "static";
    double      seconds = argc > 4 ? std::stod(argv[4]) : 0;
    try {
        tl::engine       engine(argv[1], THALLIUM_SERVER_MODE);
        std::string      self = static_cast<std::string>(engine.self());
        flock::GroupView view;
        view.members().add(self.c_str(), 42);
        view.metadata().add("made_by", "examples/cxx/server");
        std::string config = "{\"file\":\"" + std::string(argv[2]) + "\",\"group\":{\"type\":\""
                           + backend + "\",\"config\":{}}}";
        flock::Provider provider(engine, 42, config.c_str(), view);
        std::cout << "Server running at address " << engine.self() << ", provider 42" << std::endl;
        std::cout << "Group file written to: " << argv[2] << std::endl;
        if (seconds > 0) {
            std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
            engine.finalize();
        }
        engine.wait_for_finalize();
    } catch (const std::exception& e) {
        std::cerr << argv[0] << ": " << e.what() << "\n";
        return 1;
    }
    return 0;
}
