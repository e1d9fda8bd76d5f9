/*
 * flock/cxx/server.hpp -- flock::Provider (move-only wrapper of
 * flock_provider_t) and flock::Observer (membership/metadata callbacks).
 * Unlike Mochi's version: its own include guard (usable with client.hpp in
 * one translation unit), Observer subclasses can be constructed, and moves
 * keep the runtime instance. Built from a thallium::engine (this project's
 * <thallium.hpp>) or from a margo_instance_id.
 */
#ifndef FLOCK_CXX_SERVER_HPP
#define FLOCK_CXX_SERVER_HPP

#include <thallium.hpp>
#include <cstdlib>
#include <string>
#include <flock/flock-server.h>
#include <flock/cxx/exception.hpp>
#include <flock/cxx/group-view.hpp>

namespace flock {

class Observer {
  public:
    Observer()                           = default;
    virtual ~Observer()                  = default;
    Observer(const Observer&)            = delete;
    Observer(Observer&&)                 = delete;
    Observer& operator=(const Observer&) = delete;
    Observer& operator=(Observer&&)      = delete;

    virtual void onMembershipUpdate(flock_update_t update, const char* address,
                                    uint16_t provider_id) = 0;
    virtual void onMetadataUpdate(const char* key, const char* value) = 0;
};

class Provider {
  public:
    Provider() = default;

    /** Register a provider; initial_view is consumed (left empty). */
    Provider(margo_instance_id mid, uint16_t provider_id, const char* config,
             GroupView& initial_view, ABT_pool pool = ABT_POOL_NULL)
    {
        flock_provider_args args = FLOCK_PROVIDER_ARGS_INIT;
        args.pool                = pool;
        args.initial_view        = &initial_view.m_view;
        FLOCK_CONVERT_AND_THROW(flock_provider_register(mid, provider_id, config, &args, &m_provider));
        m_mid = mid;
        margo_provider_push_finalize_callback(m_mid, this, &Provider::finalizeCallback, this);
    }

    /** The same on engine's instance and pool (the engine is not kept). */
    Provider(const thallium::engine& engine, uint16_t provider_id, const char* config,
             GroupView& initial_view, const thallium::pool& pool = thallium::pool())
    : Provider(engine.get_margo_instance(), provider_id, config, initial_view,
               pool.native_handle())
    {
    }

    Provider(Provider&& other) noexcept : m_mid(other.m_mid), m_provider(other.m_provider)
    {
        if (m_provider) {
            margo_provider_pop_finalize_callback(m_mid, &other);
            margo_provider_push_finalize_callback(m_mid, this, &Provider::finalizeCallback, this);
        }
        other.m_provider = FLOCK_PROVIDER_NULL;
    }

    Provider& operator=(Provider&& other) noexcept
    {
        if (this == &other) return *this;
        reset();
        m_mid      = other.m_mid;
        m_provider = other.m_provider;
        if (m_provider) {
            margo_provider_pop_finalize_callback(m_mid, &other);
            margo_provider_push_finalize_callback(m_mid, this, &Provider::finalizeCallback, this);
        }
        other.m_provider = FLOCK_PROVIDER_NULL;
        return *this;
    }

    Provider(const Provider&)            = delete;
    Provider& operator=(const Provider&) = delete;

    ~Provider() { reset(); }

    void addObserver(Observer* observer)
    {
        FLOCK_CONVERT_AND_THROW(flock_provider_add_update_callbacks(
            m_provider, &Provider::membershipTrampoline, &Provider::metadataTrampoline, observer));
    }

    void removeObserver(Observer* observer)
    {
        FLOCK_CONVERT_AND_THROW(flock_provider_remove_update_callbacks(m_provider, observer));
    }

    /** The provider's configuration (FLOCK-SPEC 5.6); throws FLOCK_ERR_OTHER if unavailable. */
    std::string config() const
    {
        char* c = flock_provider_get_config(m_provider);
        if (!c) throw Exception(FLOCK_ERR_OTHER);
        std::string result(c);
        std::free(c);
        return result;
    }

    flock_provider_t handle() const { return m_provider; }
    operator flock_provider_t() const { return m_provider; }

  private:
    void reset()
    {
        if (m_provider) {
            margo_provider_pop_finalize_callback(m_mid, this);
            flock_provider_destroy(m_provider);
            m_provider = FLOCK_PROVIDER_NULL;
        }
    }

    /* margo finalized before this object: the C provider is destroyed by
     * its own finalize callback, which runs after this one (LIFO). */
    static void finalizeCallback(void* uargs)
    {
        static_cast<Provider*>(uargs)->m_provider = FLOCK_PROVIDER_NULL;
    }

    static void membershipTrampoline(void* ctx, flock_update_t update, const char* address,
                                     uint16_t provider_id)
    {
        static_cast<Observer*>(ctx)->onMembershipUpdate(update, address, provider_id);
    }

    static void metadataTrampoline(void* ctx, const char* key, const char* value)
    {
        static_cast<Observer*>(ctx)->onMetadataUpdate(key, value);
    }

    margo_instance_id m_mid      = MARGO_INSTANCE_NULL;
    flock_provider_t  m_provider = FLOCK_PROVIDER_NULL;
};

} // namespace flock

#endif /* FLOCK_CXX_SERVER_HPP */
