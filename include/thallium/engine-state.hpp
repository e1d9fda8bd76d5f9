/*
 * thallium/engine-state.hpp -- what every copy of a thallium::engine
 * shares: the runtime instance, whether the engine started it, the RPC
 * handlers it registered and the finalize callbacks pushed through it.
 *
 * Owns: thallium::pool, thallium::detail::engine_state, the handler boxes.
 * Calls: margo.h / frt.h (margo_finalize, margo_provider_push/pop_finalize_callback,
 * margo_instance_ref_incr/release, frt_rpc_register/deregister).
 *
 * Lifetime rules (the reason this file exists):
 * - One engine_state per engine constructor call; copies of the engine
 *   share it (std::shared_ptr). Endpoints, requests and remote procedures
 *   hold it weakly.
 * - The state pushes one margo finalize callback (owner = the state). When
 *   the instance finalizes, that callback runs the user's finalize
 *   callbacks (LIFO), deregisters every RPC the state registered and
 *   releases their handlers, then marks the state `finalizing`: from then
 *   on nothing touches the instance (its memory may be gone).
 * - When the last reference goes: an engine that started its instance (or
 *   took ownership of it) finalizes it; a wrapping engine pops its
 *   callback, deregisters its RPCs and drops the margo reference it took.
 * - A handler that is running keeps its own reference to its box, so a
 *   deregistration from inside the handler (or a finalize from inside it)
 *   never frees the code that is running.
 */
#ifndef THALLIUM_ENGINE_STATE_HPP
#define THALLIUM_ENGINE_STATE_HPP

#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>
#include <margo.h>
#include <thallium/exception.hpp>

namespace thallium {

/** An Argobots pool handle: accepted wherever Thallium takes one (the
 *  runtime runs every handler on its own elastic handler pool). */
class pool {
  public:
    pool() = default;
    explicit pool(ABT_pool p) : m_pool(p) {}
    ABT_pool native_handle() const { return m_pool; }
    bool     is_null() const { return m_pool == ABT_POOL_NULL; }
    explicit operator bool() const { return !is_null(); }

  private:
    ABT_pool m_pool = ABT_POOL_NULL;
};

namespace detail {

/* The code an incoming call runs: decode, call the user's handler, respond. */
struct handler_box {
    std::function<void(frt_request_t, const void*, size_t)> fn;
};

struct rpc_entry {
    std::string                  name;
    uint16_t                     provider_id = 0;
    std::shared_ptr<handler_box> box;
};

inline void rpc_trampoline(frt_request_t req, const void* in, size_t in_len, void* uargs)
{
    /* copy the box first: the entry may be freed by a deregistration that
     * this very handler performs */
    std::shared_ptr<handler_box> box = static_cast<rpc_entry*>(uargs)->box;
    box->fn(req, in, in_len);
}

class engine_state : public std::enable_shared_from_this<engine_state> {
  public:
    engine_state(margo_instance_id mid, bool owns) : m_mid(mid), m_owns(owns)
    {
        if (!m_owns) margo_instance_ref_incr(m_mid);
        margo_provider_push_finalize_callback(m_mid, this, &engine_state::on_finalize, this);
    }

    engine_state(const engine_state&)            = delete;
    engine_state& operator=(const engine_state&) = delete;

    ~engine_state()
    {
        bool finalizing;
        {
            std::lock_guard<std::mutex> g(m_lock);
            finalizing = m_finalizing;
        }
        if (finalizing) return; /* the instance is gone or going: touch nothing */
        if (m_owns) {
            finalize(); /* runs on_finalize, which releases everything */
            return;
        }
        margo_provider_pop_finalize_callback(m_mid, this);
        release_rpcs();
        margo_instance_release(m_mid);
    }

    margo_instance_id mid() const { return m_mid; }

    bool finalizing() const
    {
        std::lock_guard<std::mutex> g(m_lock);
        return m_finalizing;
    }

    /** Throws unless the instance can still be used. */
    void check_alive(const char* what) const
    {
        if (finalizing()) throw exception(std::string("thallium: ") + what + ": engine finalized");
    }

    void finalize()
    {
        {
            std::lock_guard<std::mutex> g(m_lock);
            if (m_finalize_called || m_finalizing) return;
            m_finalize_called = true;
        }
        margo_finalize(m_mid);
        std::lock_guard<std::mutex> g(m_lock);
        m_finalize_done = true;
    }

    void wait_for_finalize()
    {
        {
            std::lock_guard<std::mutex> g(m_lock);
            /* finalized through this engine: done; finalized by a direct
             * margo_finalize: its memory may be gone, so do not wait on it */
            if (m_finalize_done || (m_finalizing && !m_finalize_called)) return;
        }
        margo_wait_for_finalize(m_mid);
    }

    /** Register fn for (name, provider_id); throws on HG_EXIST and the like. */
    void register_rpc(const std::string& name, uint16_t provider_id,
                      std::shared_ptr<handler_box> box, ABT_pool pool)
    {
        auto e         = std::make_unique<rpc_entry>();
        e->name        = name;
        e->provider_id = provider_id;
        e->box         = std::move(box);
        std::lock_guard<std::mutex> g(m_lock);
        if (m_finalizing) throw exception("thallium: define \"" + name + "\": engine finalized");
        hg_return_t r =
            frt_rpc_register(m_mid, name.c_str(), provider_id, &rpc_trampoline, e.get(), pool);
        if (r != HG_SUCCESS)
            throw margo_exception("thallium: define \"" + name + "\" (provider "
                                      + std::to_string(provider_id) + ")",
                                  r);
        m_rpcs.push_back(std::move(e));
    }

    /** Deregister (name, provider_id) if this state registered it. */
    bool deregister_rpc(const std::string& name, uint16_t provider_id)
    {
        std::unique_ptr<rpc_entry> victim;
        {
            std::lock_guard<std::mutex> g(m_lock);
            if (m_finalizing) return false;
            for (auto it = m_rpcs.begin(); it != m_rpcs.end(); ++it)
                if ((*it)->name == name && (*it)->provider_id == provider_id) {
                    victim = std::move(*it);
                    m_rpcs.erase(it);
                    break;
                }
        }
        if (!victim) return false;
        /* outside the lock: it waits for running invocations */
        frt_rpc_deregister(m_mid, name.c_str(), provider_id);
        return true;
    }

    void push_finalize_callback(const void* owner, std::function<void()> cb)
    {
        std::lock_guard<std::mutex> g(m_lock);
        m_fin_cbs.emplace_back(owner, std::move(cb));
    }

    /** Remove the most recent callback pushed with owner; true if one was. */
    bool pop_finalize_callback(const void* owner)
    {
        std::function<void()> victim; /* destroyed outside the lock */
        std::lock_guard<std::mutex> g(m_lock);
        for (auto it = m_fin_cbs.rbegin(); it != m_fin_cbs.rend(); ++it)
            if (it->first == owner) {
                victim = std::move(it->second);
                m_fin_cbs.erase(std::next(it).base());
                return true;
            }
        return false;
    }

  private:
    /* margo finalize callback: runs inside margo_finalize (network still up) */
    static void on_finalize(void* uargs)
    {
        auto* st = static_cast<engine_state*>(uargs);
        /* keep the state alive while user callbacks drop engine copies
         * (null when the state's own destructor is finalizing) */
        std::shared_ptr<engine_state> self = st->weak_from_this().lock();
        for (;;) {
            std::function<void()> cb;
            {
                std::lock_guard<std::mutex> g(st->m_lock);
                if (st->m_fin_cbs.empty()) break;
                cb = std::move(st->m_fin_cbs.back().second);
                st->m_fin_cbs.pop_back();
            }
            if (cb) cb();
        }
        st->release_rpcs();
        std::lock_guard<std::mutex> g(st->m_lock);
        st->m_finalizing = true;
    }

    /* Deregister and free every RPC of this state (instance still valid). */
    void release_rpcs()
    {
        std::list<std::unique_ptr<rpc_entry>> rpcs;
        {
            std::lock_guard<std::mutex> g(m_lock);
            rpcs.swap(m_rpcs);
        }
        for (auto& e : rpcs) frt_rpc_deregister(m_mid, e->name.c_str(), e->provider_id);
        /* rpcs (and the user's functors) are released here, outside the lock */
    }

    margo_instance_id                                         m_mid;
    bool                                                      m_owns;
    mutable std::mutex                                        m_lock;
    bool                                                      m_finalizing      = false;
    bool                                                      m_finalize_called = false;
    bool                                                      m_finalize_done   = false;
    std::list<std::unique_ptr<rpc_entry>>                     m_rpcs;
    std::vector<std::pair<const void*, std::function<void()>>> m_fin_cbs;
};

} // namespace detail
} // namespace thallium

#endif /* THALLIUM_ENGINE_STATE_HPP */
