/*
 * thallium.hpp -- this project's Thallium: the subset of Mochi Thallium's
 * C++ API that Flock's C++ programs and small RPC services use, built on
 * the project's own runtime (<margo.h> / <frt.h>). Header-only, C++17.
 * Installed as <prefix>/include/flock/compat/thallium.hpp, a directory the
 * flock pkg-config files and CMake targets put on the include path, so it
 * cannot clash with a real Thallium installed in the same prefix.
 *
 * What is here (docs/design.md, "C++: thallium.hpp"):
 *   engine (from an address and a mode, or wrapping a margo_instance_id;
 *   copies share it; the last copy finalizes an instance it started),
 *   endpoint, provider_handle, pool, THALLIUM_SERVER_MODE/CLIENT_MODE,
 *   engine::define / remote_procedure::on(ep)(args...) / request::respond,
 *   timed and async calls, provider<T>, the archives (integers, floating
 *   point, bool, enums, strings, standard containers, pairs, tuples,
 *   optionals, user types with serialize(Archive&)), and the exceptions
 *   thallium::exception, margo_exception and timeout.
 * Not here: bulk transfers, Argobots threads and pools of one's own,
 *   xstreams, JSON engine configuration.
 */
#ifndef THALLIUM_HPP
#define THALLIUM_HPP

#include <margo.h>
#include <thallium/exception.hpp>
#include <thallium/serialization.hpp>
#include <thallium/engine-state.hpp>
#include <thallium/engine.hpp>

namespace tl = thallium;

#endif /* THALLIUM_HPP */
