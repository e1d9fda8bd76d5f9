/*
 * pyflock.hpp -- what the three Flock extension modules (pyflock_common,
 * pyflock_client, pyflock_server) share: FlockError and its translation to
 * pyflock_common.Exception, the view box behind GroupView, reading a
 * "margo_instance_id" capsule, and the finalize watch that tells a native
 * object that its runtime instance was finalized (so that it never touches
 * the instance afterwards).
 *
 * May call: the headers of include/flock/, include/margo.h, pybind11. Nothing here
 * needs Python from a runtime thread: the watch callback only takes a C++
 * lock.
 */
#ifndef PYFLOCK_HPP
#define PYFLOCK_HPP

#include <pybind11/pybind11.h>

#include <margo.h>
#include <flock/flock-common.h>
#include <flock/flock-group-view.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>

namespace py = pybind11;

namespace pyflock
{

/* The FLOCK-SPEC message of a return code (the X-macro of flock-common.h). */
inline const char* error_message(int code)
{
#define X(e, m)                                                                          \
    case e:                                                                              \
        return m;
    switch (code) {
        FLOCK_RETURN_VALUES
    }
#undef X
    return "Unknown error";
}

/* A Flock error: becomes pyflock_common.Exception(message, code). */
struct FlockError : std::exception {
    int code;
    std::string msg;
    explicit FlockError(int c) : code(c), msg(error_message(c)) {}
    FlockError(int c, std::string m) : code(c), msg(std::move(m)) {}
    const char* what() const noexcept override { return msg.c_str(); }
};

inline void check(flock_return_t r)
{
    if (r != FLOCK_SUCCESS) throw FlockError((int)r);
}

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

/* Raised by every call that would touch a finalized instance. */
[[noreturn]] inline void throw_finalized()
{
    throw FlockError(FLOCK_ERR_INVALID_ARGS,
                     "Invalid argument: the engine (margo instance) is finalized");
}

/* pyflock_common.Exception, one strong reference per module, never released
 * (it must outlive every instance of the module's objects). */
inline PyObject*& exception_type()
{
    static PyObject* type = nullptr;
    return type;
}

/* Install, for the calling module only, the FlockError -> Exception map. */
inline void register_flock_exception(py::handle type)
{
    exception_type() = type.ptr();
    Py_INCREF(type.ptr());
    py::register_local_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const FlockError& e) {
            py::object t = py::reinterpret_borrow<py::object>(exception_type());
            py::object exc = t(e.msg, e.code);
            PyErr_SetObject(exception_type(), exc.ptr());
        }
    });
}

/* ------------------------------------------------------------------ */
/* The view box                                                         */
/* ------------------------------------------------------------------ */

/* What a Python GroupView holds (shared with its proxies). The view's own
 * mutex is taken only by GroupView.lock(); `locker` names the thread that
 * holds it so that a second lock() from that thread raises instead of
 * deadlocking. */
struct ViewBox {
    flock_group_view_t view = FLOCK_GROUP_VIEW_INITIALIZER;
    std::atomic<std::thread::id> locker{};
    std::atomic<bool> locked{false};
    ViewBox() = default;
    ViewBox(const ViewBox&) = delete;
    ViewBox& operator=(const ViewBox&) = delete;
    ~ViewBox() { flock_group_view_clear(&view); }
};

/* ------------------------------------------------------------------ */
/* Capsules                                                             */
/* ------------------------------------------------------------------ */

/* The name of a live engine's capsule, and the name mochi.margo gives it
 * once the engine is finalized (the pointer is then dangling). */
constexpr const char* CAPSULE_NAME = "margo_instance_id";
constexpr const char* CAPSULE_NAME_FINALIZED = "margo_instance_id (finalized)";

/* The margo_instance_id in a capsule; TypeError if obj is not such a
 * capsule, FlockError if its engine was finalized. Needs the GIL. */
inline margo_instance_id mid_from_capsule(py::handle obj)
{
    if (!PyCapsule_CheckExact(obj.ptr()))
        throw py::type_error("expected a PyCapsule named \"margo_instance_id\" "
                             "(Engine.mid / Engine.get_internal_mid()), got " +
                             std::string(py::str(py::type::of(obj))));
    const char* name = PyCapsule_GetName(obj.ptr());
    if (name && std::strcmp(name, CAPSULE_NAME_FINALIZED) == 0) throw_finalized();
    if (!name || std::strcmp(name, CAPSULE_NAME) != 0)
        throw py::type_error(
            "expected a PyCapsule named \"margo_instance_id\", got one named \"" +
            std::string(name ? name : "(null)") + "\"");
    void* p = PyCapsule_GetPointer(obj.ptr(), CAPSULE_NAME);
    if (!p) throw py::error_already_set();
    return static_cast<margo_instance_id>(p);
}

/* ------------------------------------------------------------------ */
/* The finalize watch                                                   */
/* ------------------------------------------------------------------ */

/*
 * A native object that keeps a margo_instance_id starts a watch: a
 * provider finalize callback that marks the instance dead. Calls into the
 * runtime hold `lock` shared (and check `alive`); the callback takes it
 * exclusively, so margo_finalize waits for calls in flight and nothing
 * touches the instance once it has gone. stop() (under the exclusive lock,
 * while the instance is alive) pops the callback; if the callback was
 * already taken by a finalize in progress, that callback frees its token.
 */
struct Watch {
    std::shared_mutex lock;
    bool alive = true;
    bool dying = false; /* finalize has begun: refuse new work */
    margo_instance_id mid = MARGO_INSTANCE_NULL;
    void* token = nullptr; /* a heap std::shared_ptr<Watch> */
    /* Run inside margo_finalize, without the lock, once `dying` is set and
     * calls in flight have returned, before `alive` goes false (the
     * instance still works: it may stop subscriptions). */
    std::function<void()> before_death;

    static void on_finalize(void* uargs)
    {
        auto* sp = static_cast<std::shared_ptr<Watch>*>(uargs);
        {
            std::unique_lock<std::shared_mutex> l((*sp)->lock);
            (*sp)->dying = true;
        }
        if ((*sp)->before_death) (*sp)->before_death();
        {
            std::unique_lock<std::shared_mutex> l((*sp)->lock);
            (*sp)->alive = false;
            (*sp)->token = nullptr;
        }
        delete sp;
    }

    /* Push the callback (the instance must be alive). */
    static std::shared_ptr<Watch> start(margo_instance_id mid,
                                        std::function<void()> before_death = nullptr)
    {
        auto w = std::make_shared<Watch>();
        w->mid = mid;
        w->before_death = std::move(before_death);
        auto* sp = new std::shared_ptr<Watch>(w);
        w->token = sp;
        margo_provider_push_finalize_callback(mid, sp, &Watch::on_finalize, sp);
        return w;
    }

    /* Under `lock` (shared): may a call use the instance? */
    bool usable() const { return alive && !dying; }

    /* Call with `lock` held exclusively: pop the callback (if finalize has
     * not taken it) and mark the watch done. */
    void stop_locked()
    {
        if (!alive) return;
        void* t = token;
        if (!dying && t && margo_provider_pop_finalize_callback(mid, t) == 1) {
            token = nullptr;
            delete static_cast<std::shared_ptr<Watch>*>(t);
        }
        alive = false;
    }
};

} // namespace pyflock

#endif /* PYFLOCK_HPP */
