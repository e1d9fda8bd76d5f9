/*
 * flock/cxx/exception.hpp -- flock::Exception, thrown by the C++ wrappers
 * when a C function returns an error.
 */
#ifndef FLOCK_CXX_EXCEPTION_HPP
#define FLOCK_CXX_EXCEPTION_HPP

#include <exception>
#include <flock/flock-common.h>

namespace flock {

class Exception : public std::exception {
  public:
    Exception(flock_return_t code) : m_code(code) {}

    /** The message of the code (FLOCK_RETURN_VALUES), "Unknown error" otherwise. */
    const char* what() const noexcept override
    {
#define X(__err__, __msg__) \
    case __err__:           \
        return __msg__;
        switch (m_code) {
            FLOCK_RETURN_VALUES
        }
#undef X
        return "Unknown error";
    }

    flock_return_t code() const noexcept { return m_code; }

  private:
    flock_return_t m_code;
};

} // namespace flock

/** Throw a flock::Exception if err is not FLOCK_SUCCESS. */
#define FLOCK_CONVERT_AND_THROW(__err__)                             \
    do {                                                             \
        flock_return_t flock_err_ = (__err__);                       \
        if (flock_err_ != FLOCK_SUCCESS) throw ::flock::Exception(flock_err_); \
    } while (0)

#endif /* FLOCK_CXX_EXCEPTION_HPP */
