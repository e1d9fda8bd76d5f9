/*
 * _pymargo.cpp -- the native module behind mochi.margo: Instance, one
 * runtime instance (margo_init .. margo_finalize of include/margo.h) with
 * its "margo_instance_id" capsule, self address, lookup, finalize and
 * wait_for_finalize (FACES-SPEC 2.10; the Python classes are in
 * python/mochi/margo/core.py).
 *
 * Owns: the instance's life as Python sees it. finalize() is idempotent;
 * it renames the capsule first, so that a capsule kept by anyone is
 * refused (instead of read) once the instance is gone. Every blocking call
 * releases the GIL; the finalize callback pushed here takes only a C++
 * lock. May call: include/margo.h, include/frt.h, pybind11.
 */
#include <pybind11/pybind11.h>

#include <margo.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>

namespace py = pybind11;

namespace
{

/* Releases the GIL for a scope, like py::gil_scoped_release, but takes it
 * back from a destructor that may throw: at interpreter exit, Python ends a
 * thread that asks for the GIL with a forced unwind, which must not cross
 * a noexcept destructor (std::terminate). */
struct GilRelease {
    PyThreadState* ts;
    GilRelease() : ts(PyEval_SaveThread()) {}
    GilRelease(const GilRelease&) = delete;
    GilRelease& operator=(const GilRelease&) = delete;
    ~GilRelease() noexcept(false) { PyEval_RestoreThread(ts); }
};

constexpr const char* CAPSULE_NAME = "margo_instance_id";
constexpr const char* CAPSULE_NAME_FINALIZED = "margo_instance_id (finalized)";

class Instance
{
  public:
    Instance(const std::string& addr, int mode, bool use_progress_thread,
             int num_rpc_threads)
    {
        if (mode != MARGO_CLIENT_MODE && mode != MARGO_SERVER_MODE)
            throw std::invalid_argument(
                "mode must be mochi.margo.server or mochi.margo.client");
        {
            GilRelease nogil;
            mid_ = margo_init(addr.c_str(), mode, use_progress_thread ? 1 : 0,
                              num_rpc_threads);
        }
        if (mid_ == MARGO_INSTANCE_NULL)
            throw std::runtime_error(
                "margo_init(\"" + addr +
                "\") failed: malformed address, unsupported protocol or "
                "address in use");
        margo_push_finalize_callback(mid_, &Instance::on_finalize, this);
        capsule_ = PyCapsule_New(mid_, CAPSULE_NAME, nullptr);
        if (!capsule_) {
            py::gil_scoped_release nogil;
            finalize_now();
            throw py::error_already_set();
        }
    }

    Instance(const Instance&) = delete;
    Instance& operator=(const Instance&) = delete;

    ~Instance()
    {
        try {
            finalize();
        } catch (...) {
        }
        Py_XDECREF(capsule_);
    }

    py::object capsule()
    {
        if (finalize_started()) throw std::runtime_error("the engine is finalized");
        return py::reinterpret_borrow<py::object>(capsule_);
    }

    bool finalized() { return finalize_started(); }

    bool listening()
    {
        alive_or_throw();
        return margo_is_listening(mid_);
    }

    std::string self_address()
    {
        alive_or_throw();
        const char* s = frt_self_addr_str(mid_);
        return s ? std::string(s) : std::string();
    }

    /* Parse (never connects) and return the address's string form. */
    std::string lookup(const std::string& name)
    {
        alive_or_throw();
        hg_addr_t addr = HG_ADDR_NULL;
        hg_return_t hret = margo_addr_lookup(mid_, name.c_str(), &addr);
        if (hret != HG_SUCCESS)
            throw std::runtime_error("margo_addr_lookup(\"" + name +
                                     "\") failed: " + HG_Error_to_string(hret));
        std::string out = frt_addr_str(addr);
        margo_addr_free(mid_, addr);
        return out;
    }

    /* Idempotent. Needs the GIL (capsule rename); releases it while the
     * runtime shuts down. */
    void finalize()
    {
        {
            std::lock_guard<std::mutex> l(m_);
            if (by_python_ || finalizing_) return;
            by_python_ = true;
        }
        if (capsule_) PyCapsule_SetName(capsule_, CAPSULE_NAME_FINALIZED);
        GilRelease nogil;
        finalize_now();
    }

    /* Block (GIL released) until the instance is finalized; Ctrl-C works. */
    void wait_for_finalize()
    {
        for (;;) {
            {
                GilRelease nogil;
                std::unique_lock<std::mutex> l(m_);
                cv_.wait_for(l, std::chrono::milliseconds(200), [this] { return done_; });
                if (done_) return;
            }
            if (PyErr_CheckSignals() != 0) throw py::error_already_set();
        }
    }

  private:
    margo_instance_id mid_ = MARGO_INSTANCE_NULL;
    PyObject* capsule_ = nullptr;
    std::mutex m_;
    std::condition_variable cv_;
    bool by_python_ = false;  /* finalize() was called */
    bool finalizing_ = false; /* the callback ran */
    bool done_ = false;       /* the instance is gone */

    bool finalize_started()
    {
        std::lock_guard<std::mutex> l(m_);
        return by_python_ || finalizing_;
    }

    void alive_or_throw()
    {
        if (finalize_started()) throw std::runtime_error("the engine is finalized");
    }

    void finalize_now()
    {
        margo_finalize(mid_);
        std::lock_guard<std::mutex> l(m_);
        done_ = true;
        cv_.notify_all();
    }

    /* Runs inside margo_finalize, whoever called it. A finalize that did
     * not come from finalize() (the last margo reference released) means
     * the instance is gone when margo_finalize returns: treat it as done
     * from now on, since nothing here will touch it again. */
    static void on_finalize(void* uargs)
    {
        auto* self = static_cast<Instance*>(uargs);
        std::lock_guard<std::mutex> l(self->m_);
        self->finalizing_ = true;
        if (!self->by_python_) {
            self->done_ = true;
            self->cv_.notify_all();
        }
    }
};

} // namespace

PYBIND11_MODULE(_pymargo, m)
{
    m.doc() = "Native part of mochi.margo over Flock's runtime (margo.h)";
    m.attr("server") = py::int_(MARGO_SERVER_MODE);
    m.attr("client") = py::int_(MARGO_CLIENT_MODE);
    py::class_<Instance>(m, "Instance")
        .def(py::init<const std::string&, int, bool, int>(), py::arg("addr"),
             py::arg("mode"), py::arg("use_progress_thread") = false,
             py::arg("num_rpc_threads") = 0)
        .def("capsule", &Instance::capsule)
        .def_property_readonly("finalized", &Instance::finalized)
        .def("listening", &Instance::listening)
        .def("self_address", &Instance::self_address)
        .def("lookup", &Instance::lookup, py::arg("address"))
        .def("finalize", &Instance::finalize)
        .def("wait_for_finalize", &Instance::wait_for_finalize);
}
