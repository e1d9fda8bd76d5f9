/*
 * pyflock_server.cpp -- the native module pyflock_server: Provider, a
 * Flock provider registered with flock_provider_register (FACES-SPEC 2.8).
 *
 * Owns: the provider handle and the finalize watch of its instance. The
 * provider ends when the Python object is collected (flock_provider_destroy)
 * or when the instance is finalized (the provider's own finalize callback);
 * the watch, pushed after the provider's callback and so run before it,
 * makes either order safe. Registration and destruction release the GIL
 * (a join or a leave sends RPCs).
 * May call: include/flock/flock-server.h, margo.h, and pyflock_common
 * (imported at load: its Exception and GroupView).
 */
#include "pyflock.hpp"

#include <memory>
#include <string>

#include <flock/flock-server.h>

using namespace pyflock;

namespace
{

class Provider
{
  public:
    /* Takes the contents of view (left empty, even on failure). */
    Provider(py::object capsule, uint16_t provider_id, const std::string& config,
             ViewBox& view)
    {
        margo_instance_id mid = mid_from_capsule(capsule);
        flock_group_view_t init = FLOCK_GROUP_VIEW_INITIALIZER;
        FLOCK_GROUP_VIEW_MOVE(&view.view, &init);
        flock_return_t ret;
        {
            GilRelease nogil;
            struct flock_provider_args args = FLOCK_PROVIDER_ARGS_INIT;
            args.initial_view = &init;
            ret = flock_provider_register(mid, provider_id, config.c_str(), &args, &p_);
            flock_group_view_clear(&init);
            if (ret == FLOCK_SUCCESS) watch_ = Watch::start(mid);
        }
        check(ret);
    }

    Provider(const Provider&) = delete;
    Provider& operator=(const Provider&) = delete;

    ~Provider()
    {
        if (!watch_) return;
        py::gil_scoped_release nogil;
        std::unique_lock<std::shared_mutex> l(watch_->lock);
        if (!watch_->alive) return; /* the instance's finalize destroyed it */
        watch_->stop_locked();
        flock_provider_destroy(p_);
        p_ = FLOCK_PROVIDER_NULL;
    }

  private:
    flock_provider_t p_ = FLOCK_PROVIDER_NULL;
    std::shared_ptr<Watch> watch_;
};

} // namespace

PYBIND11_MODULE(pyflock_server, m)
{
    m.doc() = "Flock provider (native part of mochi.flock.server)";
    py::module_ common = py::module_::import("pyflock_common");
    register_flock_exception(common.attr("Exception"));

    py::class_<Provider>(m, "Provider")
        .def(py::init<py::object, uint16_t, const std::string&, ViewBox&>());
}
