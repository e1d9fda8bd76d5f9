/*
 * thallium/exception.hpp -- the exceptions of this project's Thallium shim.
 *
 * Owns: thallium::exception (every failure: bad address, unreachable peer,
 * failed or undecodable call), thallium::margo_exception (carries the
 * hg_return_t of the runtime call that failed) and thallium::timeout.
 * Calls HG_Error_to_string only.
 */
#ifndef THALLIUM_EXCEPTION_HPP
#define THALLIUM_EXCEPTION_HPP

#include <exception>
#include <string>
#include <margo.h>

namespace thallium {

/** Base of every exception the shim throws; what() names what failed. */
class exception : public std::exception {
  public:
    explicit exception(std::string msg) : m_msg(std::move(msg)) {}
    const char* what() const noexcept override { return m_msg.c_str(); }

  private:
    std::string m_msg;
};

/** A runtime call failed with `error()` (an hg_return_t). */
class margo_exception : public exception {
  public:
    margo_exception(const std::string& where, hg_return_t ret)
    : exception(where + ": " + HG_Error_to_string(ret) + " (" + std::to_string(int(ret)) + ")")
    , m_ret(ret)
    {
    }
    hg_return_t error() const noexcept { return m_ret; }

  private:
    hg_return_t m_ret;
};

/** A call did not complete within its timeout. */
class timeout : public margo_exception {
  public:
    explicit timeout(const std::string& where) : margo_exception(where, HG_TIMEOUT) {}
};

} // namespace thallium

#endif /* THALLIUM_EXCEPTION_HPP */
