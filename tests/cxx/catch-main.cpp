// catch-main.cpp -- the one Catch2 main shared by the C++ tests (compiled once).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
