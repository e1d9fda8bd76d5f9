/*
 * pyflock_client.cpp -- the native module pyflock_client: Client (over
 * flock_client_t) and GroupHandle (over flock_group_handle_t), FACES-SPEC
 * 2.6 and 2.7, plus GroupHandle.subscribe/unsubscribe/metadata_set over
 * the C calls of the same names.
 *
 * Owns: ClientCore (the flock client, kept alive by the native Client and
 * by every handle made from it, with the finalize watch of its instance),
 * the handles, and the subscription context whose callbacks come from
 * runtime threads and take the GIL. Blocking calls (lookups, handle
 * creation, update, subscribe) release the GIL and hold the watch lock
 * shared, so the instance cannot go away under them.
 * May call: include/flock/flock-client.h, flock-group.h, margo.h, and
 * pyflock_common (imported at load: its Exception and GroupView).
 */
#include "pyflock.hpp"

#include <pybind11/stl.h>

#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>

#include <flock/flock-client.h>
#include <flock/flock-group.h>

using namespace pyflock;

namespace
{

/* The C handles that have a subscription, each with a reference of its
 * own. A handle's last release with a subscription tells the member (an
 * RPC), so every subscription is stopped while the instance still works:
 * by GroupHandle.unsubscribe / its destructor, or by the finalize watch
 * (stop_all) when the engine goes first. */
struct SubRegistry {
    std::mutex m;
    std::set<flock_group_handle_t> handles;

    void add(flock_group_handle_t h)
    {
        flock_group_handle_ref_incr(h);
        std::lock_guard<std::mutex> l(m);
        handles.insert(h);
    }

    /* true if h was here (its reference is the caller's to drop now). */
    bool take(flock_group_handle_t h)
    {
        std::lock_guard<std::mutex> l(m);
        return handles.erase(h) == 1;
    }

    /* From the finalize watch: stop every subscription (no GIL needed:
     * flock_group_unsubscribe waits for a callback that runs, which may
     * take the GIL, held by nobody who waits for us). */
    void stop_all()
    {
        std::set<flock_group_handle_t> all;
        {
            std::lock_guard<std::mutex> l(m);
            all.swap(handles);
        }
        for (flock_group_handle_t h : all) {
            flock_group_unsubscribe(h);
            flock_group_handle_release(h);
        }
    }
};

/* The flock client; freed when the native Client and all its handles are
 * gone (flock_client_finalize does not touch the instance then). */
struct ClientCore {
    flock_client_t client = FLOCK_CLIENT_NULL;
    margo_instance_id mid = MARGO_INSTANCE_NULL;
    std::shared_ptr<Watch> watch;
    std::shared_ptr<SubRegistry> subs = std::make_shared<SubRegistry>();

    /* Runs where a Python object is freed (GIL held): it may wait for a
     * call in flight on another thread, so the GIL is released. */
    ~ClientCore()
    {
        std::optional<py::gil_scoped_release> nogil;
        if (Py_IsInitialized() && PyGILState_Check()) nogil.emplace();
        if (watch) {
            std::unique_lock<std::shared_mutex> l(watch->lock);
            watch->stop_locked();
        }
        if (client) flock_client_finalize(client);
    }
};
using CorePtr = std::shared_ptr<ClientCore>;

/* What a subscription's callbacks need: the Python callable. Freed by the
 * handle after flock_group_unsubscribe has returned (callbacks done). */
struct Subscription {
    py::object on_member;   /* (update: str, address: str, provider_id: int) or None */
    py::object on_metadata; /* (key: str, value: str or None) or None */
};

const char* update_name(flock_update_t u)
{
    switch (u) {
    case FLOCK_MEMBER_JOINED:
        return "joined";
    case FLOCK_MEMBER_LEFT:
        return "left";
    case FLOCK_MEMBER_DIED:
        return "died";
    case FLOCK_MEMBER_MOVED:
        return "moved";
    }
    return "unknown";
}

/* Report a Python error raised by a callback without letting it escape
 * into a runtime thread. */
void report_callback_error(py::error_already_set& e, const char* where)
{
    e.restore();
    PyErr_WriteUnraisable(py::str(where).ptr());
}

/* Set by an atexit hook, before the interpreter starts finalizing. */
std::atomic<bool> exiting{false};

/* true once the interpreter is going away: no GIL may be taken then (a
 * thread that asks for it while Python finalizes is ended by Python). */
bool python_gone()
{
    if (exiting.load()) return true;
#if PY_VERSION_HEX >= 0x030D0000
    return !Py_IsInitialized() || Py_IsFinalizing();
#else
    return !Py_IsInitialized() || _Py_IsFinalizing();
#endif
}

/* From a runtime thread: take the GIL (unless Python is shutting down). */
void on_member_update(void* ctx, flock_update_t update, const char* address, uint16_t pid)
{
    if (python_gone()) return;
    py::gil_scoped_acquire gil;
    auto* sub = static_cast<Subscription*>(ctx);
    py::object cb = sub->on_member; /* a reference of our own */
    if (cb.is_none()) return;
    try {
        cb(update_name(update), address ? address : "", pid);
    } catch (py::error_already_set& e) {
        report_callback_error(e, "GroupHandle.subscribe callback (member update)");
    }
}

void on_metadata_update(void* ctx, const char* key, const char* value)
{
    if (python_gone()) return;
    py::gil_scoped_acquire gil;
    auto* sub = static_cast<Subscription*>(ctx);
    py::object cb = sub->on_metadata; /* a reference of our own */
    if (cb.is_none()) return;
    try {
        py::object v = value ? py::object(py::str(value)) : py::object(py::none());
        cb(key ? key : "", v);
    } catch (py::error_already_set& e) {
        report_callback_error(e, "GroupHandle.subscribe callback (metadata update)");
    }
}

class GroupHandle
{
  public:
    GroupHandle(CorePtr core, flock_group_handle_t h) : core_(std::move(core)), h_(h) {}
    GroupHandle(const GroupHandle&) = delete;
    GroupHandle& operator=(const GroupHandle&) = delete;

    ~GroupHandle()
    {
        try {
            unsubscribe();
        } catch (...) {
        }
        /* releasing touches the handle's memory only, never the instance */
        if (h_) flock_group_handle_release(h_);
    }

    void update()
    {
        flock_return_t ret;
        {
            GilRelease nogil;
            std::shared_lock<std::shared_mutex> l(core_->watch->lock);
            if (!core_->watch->usable()) throw_finalized();
            ret = flock_group_update_view(h_, nullptr);
        }
        check(ret);
    }

    std::shared_ptr<ViewBox> view()
    {
        auto box = std::make_shared<ViewBox>();
        check(flock_group_get_view(h_, &box->view));
        return box;
    }

    void subscribe(py::object on_member, py::object on_metadata)
    {
        for (const py::object& f : {on_member, on_metadata})
            if (!f.is_none() && !PyCallable_Check(f.ptr()))
                throw py::type_error(
                    "GroupHandle.subscribe: the callbacks must be callable "
                    "or None");
        if (sub_)
            throw FlockError(FLOCK_ERR_INVALID_ARGS, "Invalid argument: this handle "
                                                     "is already subscribed");
        auto sub = std::make_unique<Subscription>(
            Subscription{std::move(on_member), std::move(on_metadata)});
        flock_return_t ret;
        {
            GilRelease nogil;
            std::shared_lock<std::shared_mutex> l(core_->watch->lock);
            if (!core_->watch->usable()) throw_finalized();
            ret = flock_group_subscribe(h_, on_member_update, on_metadata_update,
                                        sub.get());
            if (ret == FLOCK_SUCCESS) core_->subs->add(h_);
        }
        check(ret);
        sub_ = std::move(sub);
    }

    /* No callback runs once this returns (but the caller's own, when a
     * callback calls it). A no-op without a subscription. */
    void unsubscribe()
    {
        if (!sub_) return;
        {
            GilRelease nogil;
            std::shared_lock<std::shared_mutex> l(core_->watch->lock);
            /* absent: the engine's finalize has stopped it already */
            if (core_->watch->alive && core_->subs->take(h_)) {
                flock_group_unsubscribe(h_);
                flock_group_handle_release(h_);
            }
        }
        /* a callback that runs this keeps its own reference to the callable */
        sub_.reset();
    }

    void metadata_set(const std::string& key, const std::optional<std::string>& value)
    {
        flock_return_t ret;
        {
            GilRelease nogil;
            std::shared_lock<std::shared_mutex> l(core_->watch->lock);
            if (!core_->watch->usable()) throw_finalized();
            ret = flock_group_metadata_set(h_, key.c_str(),
                                           value ? value->c_str() : nullptr);
        }
        check(ret);
    }

  private:
    CorePtr core_;
    flock_group_handle_t h_ = FLOCK_GROUP_HANDLE_NULL;
    std::unique_ptr<Subscription> sub_;
};

class Client
{
  public:
    explicit Client(py::object capsule) : capsule_(capsule)
    {
        margo_instance_id mid = mid_from_capsule(capsule);
        core_ = std::make_shared<ClientCore>();
        core_->mid = mid;
        check(flock_client_init(mid, ABT_POOL_NULL, &core_->client));
        std::shared_ptr<SubRegistry> subs = core_->subs;
        core_->watch = Watch::start(mid, [subs] { subs->stop_all(); });
    }

    py::object capsule() const { return capsule_; }

    std::unique_ptr<GroupHandle> make_group_handle(const std::string& address,
                                                   uint16_t pid)
    {
        flock_group_handle_t h = FLOCK_GROUP_HANDLE_NULL;
        flock_return_t ret;
        hg_return_t hret = HG_SUCCESS;
        {
            GilRelease nogil;
            std::shared_lock<std::shared_mutex> l(core_->watch->lock);
            if (!core_->watch->usable()) throw_finalized();
            hg_addr_t addr = HG_ADDR_NULL;
            hret = margo_addr_lookup(core_->mid, address.c_str(), &addr);
            if (hret == HG_SUCCESS) {
                ret = flock_group_handle_create(core_->client, addr, pid, 0, &h);
                margo_addr_free(core_->mid, addr);
            } else {
                ret = FLOCK_SUCCESS;
            }
        }
        if (hret != HG_SUCCESS)
            throw std::runtime_error("Could not lookup address \"" + address +
                                     "\": " + HG_Error_to_string(hret));
        check(ret);
        return std::make_unique<GroupHandle>(core_, h);
    }

    std::unique_ptr<GroupHandle> from_file(const std::string& filename)
    {
        flock_group_handle_t h = FLOCK_GROUP_HANDLE_NULL;
        flock_return_t ret;
        {
            GilRelease nogil;
            std::shared_lock<std::shared_mutex> l(core_->watch->lock);
            if (!core_->watch->usable()) throw_finalized();
            ret = flock_group_handle_create_from_file(core_->client, filename.c_str(), 0,
                                                      &h);
        }
        check(ret);
        return std::make_unique<GroupHandle>(core_, h);
    }

    std::unique_ptr<GroupHandle> from_serialized(const std::string& serialized)
    {
        flock_group_handle_t h = FLOCK_GROUP_HANDLE_NULL;
        flock_return_t ret;
        {
            GilRelease nogil;
            std::shared_lock<std::shared_mutex> l(core_->watch->lock);
            if (!core_->watch->usable()) throw_finalized();
            ret = flock_group_handle_create_from_serialized(
                core_->client, serialized.data(), serialized.size(), 0, &h);
        }
        check(ret);
        return std::make_unique<GroupHandle>(core_, h);
    }

  private:
    py::object capsule_;
    CorePtr core_;
};

} // namespace

PYBIND11_MODULE(pyflock_client, m)
{
    m.doc() = "Flock client and group handles (native part of mochi.flock.client)";
    py::module_ common = py::module_::import("pyflock_common");
    register_flock_exception(common.attr("Exception"));
    /* from now on, subscription callbacks are dropped rather than run */
    py::module_::import("atexit").attr("register")(
        py::cpp_function([] { exiting.store(true); }));

    py::class_<GroupHandle>(m, "GroupHandle")
        .def("update", &GroupHandle::update)
        .def_property_readonly("view", &GroupHandle::view)
        .def("subscribe", &GroupHandle::subscribe, py::arg("on_member"),
             py::arg("on_metadata") = py::none())
        .def("unsubscribe", &GroupHandle::unsubscribe)
        .def("metadata_set", &GroupHandle::metadata_set, py::arg("key"),
             py::arg("value"));

    py::class_<Client>(m, "Client")
        .def(py::init<py::object>(), py::arg("mid"))
        .def_property_readonly("margo_instance_id", &Client::capsule)
        .def("make_group_handle", &Client::make_group_handle, py::arg("address"),
             py::arg("provider_id") = 0)
        .def("make_group_handle_from_file", &Client::from_file, py::arg("filename"))
        .def("make_group_handle_from_serialized", &Client::from_serialized,
             py::arg("serialized"));
}
