/*
 * thallium/engine.hpp -- the RPC face of this project's Thallium shim:
 * engine, endpoint, provider_handle, request, packed_data,
 * remote_procedure (and its callable / async forms), provider<T>.
 *
 * Owns: those classes. Calls: thallium/engine-state.hpp (shared engine
 * state), thallium/serialization.hpp (archives), margo.h / frt.h
 * (margo_init, margo_addr_*, frt_forward, frt_forward_async, frt_respond*).
 *
 * Calls travel as frt RPCs named as defined, with the provider id of the
 * provider_handle (0 for a plain endpoint); arguments and responses are
 * the archives of serialization.hpp. A handler that throws, or whose
 * arguments do not decode, answers with an error the caller sees as a
 * thallium::margo_exception (HG_OTHER_ERROR / HG_PROTOCOL_ERROR); a
 * handler that returns without responding answers with an empty response
 * once the last copy of its request is gone (deferred responses work).
 */
#ifndef THALLIUM_ENGINE_HPP
#define THALLIUM_ENGINE_HPP

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <thallium/engine-state.hpp>
#include <thallium/serialization.hpp>

#define THALLIUM_SERVER_MODE MARGO_SERVER_MODE
#define THALLIUM_CLIENT_MODE MARGO_CLIENT_MODE

namespace thallium {

class engine;
class request;
template <typename T> class provider;

/** Tag: a provider method whose return value is not sent back. */
struct ignore_return_value {};

/* ------------------------------------------------------------------ */
/* endpoint, provider_handle                                           */
/* ------------------------------------------------------------------ */

/** An address of a peer; owns its hg_addr_t. */
class endpoint {
  public:
    endpoint() = default;
    /** Adopt addr (freed by the destructor unless take_ownership is false,
     *  in which case a copy is made). */
    inline endpoint(const engine& e, hg_addr_t addr, bool take_ownership = true);

    endpoint(const endpoint& other) : m_engine(other.m_engine)
    {
        if (other.m_addr) margo_addr_dup(mid(), other.m_addr, &m_addr);
    }
    endpoint(endpoint&& other) noexcept : m_engine(std::move(other.m_engine)), m_addr(other.m_addr)
    {
        other.m_addr = HG_ADDR_NULL;
    }
    endpoint& operator=(const endpoint& other)
    {
        if (this == &other) return *this;
        reset();
        m_engine = other.m_engine;
        if (other.m_addr) margo_addr_dup(mid(), other.m_addr, &m_addr);
        return *this;
    }
    endpoint& operator=(endpoint&& other) noexcept
    {
        if (this == &other) return *this;
        reset();
        m_engine     = std::move(other.m_engine);
        m_addr       = other.m_addr;
        other.m_addr = HG_ADDR_NULL;
        return *this;
    }
    virtual ~endpoint() { reset(); }

    /** The hg_addr_t; with copy=true a duplicate the caller frees
     *  (margo_addr_free). */
    hg_addr_t get_addr(bool copy = false) const
    {
        if (!copy || !m_addr) return m_addr;
        hg_addr_t dup = HG_ADDR_NULL;
        margo_addr_dup(mid(), m_addr, &dup);
        return dup;
    }

    /** The address string ("" for a null endpoint). */
    explicit operator std::string() const { return m_addr ? frt_addr_str(m_addr) : ""; }

    bool is_null() const { return m_addr == HG_ADDR_NULL; }
    bool operator==(const endpoint& o) const { return margo_addr_cmp(mid(), m_addr, o.m_addr); }
    bool operator!=(const endpoint& o) const { return !(*this == o); }

    inline engine get_engine() const;

  protected:
    std::weak_ptr<detail::engine_state> m_engine;
    hg_addr_t                           m_addr = HG_ADDR_NULL;

  private:
    /* hg_addr handles of this runtime do not depend on their instance
     * (src/runtime/margo.c), so an endpoint may outlive its engine. */
    margo_instance_id mid() const
    {
        auto st = m_engine.lock();
        return st ? st->mid() : MARGO_INSTANCE_NULL;
    }
    void reset()
    {
        if (m_addr) margo_addr_free(mid(), m_addr);
        m_addr = HG_ADDR_NULL;
    }
};

/** An endpoint plus the provider id calls on it address. */
class provider_handle : public endpoint {
  public:
    provider_handle() = default;
    provider_handle(const endpoint& ep, uint16_t provider_id = 0)
    : endpoint(ep), m_provider_id(provider_id)
    {
    }
    inline provider_handle(const engine& e, const std::string& address, uint16_t provider_id = 0);
    uint16_t provider_id() const { return m_provider_id; }
    uint16_t get_provider_id() const { return m_provider_id; }

  private:
    uint16_t m_provider_id = 0;
};

/* ------------------------------------------------------------------ */
/* packed_data: a response as bytes, decoded on demand                 */
/* ------------------------------------------------------------------ */

class packed_data {
  public:
    packed_data() = default;
    /** Adopt a malloc'd buffer. */
    packed_data(void* data, size_t size)
    : m_data(static_cast<char*>(data), [](char* p) { std::free(p); }), m_size(size)
    {
    }

    /** Decode the response: one value, or a std::tuple of several
     *  (throws thallium::exception on a truncated or malformed payload). */
    template <typename... T> auto as() const
    {
        static_assert(sizeof...(T) >= 1, "as<T...>() needs at least one type");
        input_archive ar(m_data.get(), m_size);
        if constexpr (sizeof...(T) == 1) {
            std::tuple_element_t<0, std::tuple<T...>> v{};
            ar.load(v);
            return v;
        } else {
            std::tuple<T...> v{};
            ar.load(v);
            return v;
        }
    }

    template <typename T> operator T() const { return as<T>(); }

    const char* data() const { return m_data.get(); }
    size_t      size() const { return m_size; }

  private:
    std::shared_ptr<char> m_data;
    size_t                m_size = 0;
};

/* ------------------------------------------------------------------ */
/* request: the server's side of a call                                */
/* ------------------------------------------------------------------ */

namespace detail {

struct request_state {
    frt_request_t                req = nullptr;
    std::weak_ptr<engine_state>  engine;
    uint16_t                     provider_id = 0;
    std::string                  name;
    std::mutex                   lock;
    bool                         responded = false;

    /** Mark responded; false if it already was. */
    bool claim()
    {
        std::lock_guard<std::mutex> g(lock);
        if (responded) return false;
        responded = true;
        return true;
    }
    ~request_state()
    {
        if (!responded) frt_respond(req, nullptr, 0); /* the handler never answered */
    }
};

} // namespace detail

class request {
  public:
    request() = default;
    explicit request(std::shared_ptr<detail::request_state> st) : m_state(std::move(st)) {}

    /** Send the response (values encoded in order). Exactly once per call;
     *  a second respond throws. */
    template <typename... T> void respond(const T&... v) const
    {
        if (!m_state) throw exception("thallium: respond on a null request");
        output_archive ar;
        ar(v...);
        ar.check();
        if (!m_state->claim()) throw exception("thallium: request already responded to");
        hg_return_t r = frt_respond(m_state->req, ar.data(), ar.size());
        if (r != HG_SUCCESS) throw margo_exception("thallium: respond", r);
    }

    /** Fail the call at the caller with code (the caller's call throws). */
    void respond_error(hg_return_t code) const
    {
        if (m_state && m_state->claim())
            frt_respond_error(m_state->req, code == HG_SUCCESS ? HG_OTHER_ERROR : code);
    }

    bool responded() const
    {
        if (!m_state) return false;
        std::lock_guard<std::mutex> g(m_state->lock);
        return m_state->responded;
    }
    uint16_t get_provider_id() const { return m_state ? m_state->provider_id : 0; }
    const std::string& get_name() const
    {
        static const std::string empty;
        return m_state ? m_state->name : empty;
    }

    /** The caller's endpoint (before the response only). */
    inline endpoint get_endpoint() const;

  private:
    std::shared_ptr<detail::request_state> m_state;
};

/* ------------------------------------------------------------------ */
/* Handler plumbing                                                    */
/* ------------------------------------------------------------------ */

namespace detail {

template <typename F> struct callable_traits : callable_traits<decltype(&F::operator())> {};
template <typename C, typename R, typename... A> struct callable_traits<R (C::*)(A...) const> {
    using ret  = R;
    using args = std::tuple<A...>;
};
template <typename C, typename R, typename... A> struct callable_traits<R (C::*)(A...)> {
    using ret  = R;
    using args = std::tuple<A...>;
};
template <typename R, typename... A> struct callable_traits<R (*)(A...)> {
    using ret  = R;
    using args = std::tuple<A...>;
};
template <typename R, typename... A> struct callable_traits<R(A...)> {
    using ret  = R;
    using args = std::tuple<A...>;
};

/* the decoded (owned) form of a parameter list */
template <typename Tuple> struct decayed_tuple;
template <typename... A> struct decayed_tuple<std::tuple<A...>> {
    using type = std::tuple<std::decay_t<A>...>;
};
/* drop the leading `const request&` */
template <typename Tuple> struct tail;
template <typename H, typename... A> struct tail<std::tuple<H, A...>> {
    using type = std::tuple<A...>;
};

/**
 * The body of every handler: decode Args from the payload (failure:
 * HG_PROTOCOL_ERROR at the caller), run `invoke(req, args)`, turn an
 * exception into HG_OTHER_ERROR (logged with its message).
 */
template <typename Args, typename Invoke>
std::shared_ptr<handler_box> make_box(std::weak_ptr<engine_state> eng, std::string name,
                                      uint16_t provider_id, Invoke invoke)
{
    auto box = std::make_shared<handler_box>();
    box->fn  = [eng = std::move(eng), name = std::move(name), provider_id,
               invoke = std::move(invoke)](frt_request_t r, const void* in, size_t len) mutable {
        auto st         = std::make_shared<request_state>();
        st->req         = r;
        st->engine      = eng;
        st->provider_id = provider_id;
        st->name        = name;
        margo_instance_id mid = frt_request_instance(r);
        request           req(st);
        st.reset(); /* the request (and the copies the handler keeps) own it */
        Args args{};
        try {
            input_archive ar(in, len);
            std::apply([&ar](auto&... a) { ar(a...); }, args);
            if (!ar.done()) ar.fail("trailing bytes");
        } catch (const std::exception& e) {
            margo_error(mid, "[thallium] RPC \"%s\": cannot decode the arguments: %s",
                        name.c_str(), e.what());
            req.respond_error(HG_PROTOCOL_ERROR);
            return;
        }
        try {
            invoke(req, args);
        } catch (const std::exception& e) {
            margo_error(mid, "[thallium] RPC \"%s\" handler threw: %s", name.c_str(), e.what());
            req.respond_error(HG_OTHER_ERROR);
        } catch (...) {
            margo_error(mid, "[thallium] RPC \"%s\" handler threw", name.c_str());
            req.respond_error(HG_OTHER_ERROR);
        }
    };
    return box;
}

/* Call fn(args...) (prefixed by req when with_req) and respond with a
 * non-void result unless ignore. */
template <bool with_req, typename R, typename Fn, typename Args>
void call_handler(const request& req, Fn& fn, Args& args, bool ignore)
{
    auto call = [&](auto&... a) -> decltype(auto) {
        if constexpr (with_req)
            return fn(req, a...);
        else
            return fn(a...);
    };
    if constexpr (std::is_void<R>::value) {
        std::apply(call, args);
    } else {
        R result = std::apply(call, args);
        if (!ignore) req.respond(result);
    }
}

struct async_state {
    std::mutex              lock;
    std::condition_variable cv;
    bool                    done = false;
    hg_return_t             ret  = HG_SUCCESS;
    void*                   data = nullptr;
    size_t                  size = 0;
    std::string             where;
    ~async_state() { std::free(data); }
};

inline void async_done(void* uargs, hg_return_t ret, const void* out, size_t out_len)
{
    auto* holder = static_cast<std::shared_ptr<async_state>*>(uargs);
    auto  st     = *holder;
    delete holder;
    void* copy = nullptr;
    if (ret == HG_SUCCESS && out_len) {
        copy = std::malloc(out_len);
        if (copy)
            std::memcpy(copy, out, out_len);
        else
            ret = HG_NOMEM;
    }
    std::lock_guard<std::mutex> g(st->lock);
    st->ret  = ret;
    st->data = copy;
    st->size = copy ? out_len : 0;
    st->done = true;
    st->cv.notify_all();
}

inline void async_ignore(void*, hg_return_t, const void*, size_t) {}

[[noreturn]] inline void throw_call_error(const std::string& where, hg_return_t r)
{
    if (r == HG_TIMEOUT) throw timeout(where);
    throw margo_exception(where, r);
}

} // namespace detail

/** The pending result of callable_remote_procedure::async. */
class async_response {
  public:
    async_response() = default;
    explicit async_response(std::shared_ptr<detail::async_state> st) : m_state(std::move(st)) {}

    /** Block until the response is there (throws as a blocking call would). */
    packed_data wait() const
    {
        if (!m_state) throw exception("thallium: wait on a null async_response");
        hg_return_t r = HG_SUCCESS;
        void*       d = nullptr;
        size_t      n = 0;
        frt_wait_begin(); /* lets another handler thread run meanwhile */
        {
            std::unique_lock<std::mutex> g(m_state->lock);
            m_state->cv.wait(g, [this] { return m_state->done; });
            r             = m_state->ret;
            d             = m_state->data;
            n             = m_state->size;
            m_state->data = nullptr; /* packed_data takes the buffer */
            m_state->size = 0;
        }
        frt_wait_end();
        if (r != HG_SUCCESS) detail::throw_call_error(m_state->where, r);
        return packed_data(d, n);
    }

    bool received() const
    {
        if (!m_state) return false;
        std::lock_guard<std::mutex> g(m_state->lock);
        return m_state->done;
    }

  private:
    std::shared_ptr<detail::async_state> m_state;
};

/* ------------------------------------------------------------------ */
/* remote procedures                                                   */
/* ------------------------------------------------------------------ */

/** A remote procedure bound to a provider handle: call it with arguments. */
class callable_remote_procedure {
  public:
    callable_remote_procedure(std::weak_ptr<detail::engine_state> eng, std::string name,
                              const provider_handle& ph, bool no_response)
    : m_engine(std::move(eng)), m_name(std::move(name)), m_target(ph), m_no_response(no_response)
    {
    }

    /** Blocking call without a timeout; returns the response. */
    template <typename... T> packed_data operator()(const T&... args) const
    {
        return call(0.0, args...);
    }

    /** Blocking call that throws thallium::timeout after t. */
    template <typename Rep, typename Period, typename... T>
    packed_data timed(const std::chrono::duration<Rep, Period>& t, const T&... args) const
    {
        double ms = std::chrono::duration<double, std::milli>(t).count();
        return call(ms > 0 ? ms : 0.001, args...);
    }

    /** Start the call and return at once. */
    template <typename... T> async_response async(const T&... args) const
    {
        auto                 st = live();
        std::vector<char>    in = serialize_to_bytes(args...);
        auto                 as = std::make_shared<detail::async_state>();
        as->where               = where();
        auto*       holder      = new std::shared_ptr<detail::async_state>(as);
        hg_return_t r = frt_forward_async(st->mid(), m_target.get_addr(), m_name.c_str(),
                                          m_target.provider_id(), in.data(), in.size(), 0.0,
                                          &detail::async_done, holder);
        if (r != HG_SUCCESS) {
            delete holder;
            detail::throw_call_error(where(), r);
        }
        return async_response(as);
    }

  private:
    std::shared_ptr<detail::engine_state> live() const
    {
        auto st = m_engine.lock();
        if (!st) throw exception("thallium: call \"" + m_name + "\": engine destroyed");
        st->check_alive(("call \"" + m_name + "\"").c_str());
        if (m_target.is_null()) throw exception("thallium: call \"" + m_name + "\": null endpoint");
        return st;
    }

    std::string where() const
    {
        return "thallium: RPC \"" + m_name + "\" to " + static_cast<std::string>(m_target)
             + " (provider " + std::to_string(m_target.provider_id()) + ")";
    }

    template <typename... T> packed_data call(double timeout_ms, const T&... args) const
    {
        auto              st = live();
        std::vector<char> in = serialize_to_bytes(args...);
        if (m_no_response) {
            hg_return_t r = frt_forward_async(st->mid(), m_target.get_addr(), m_name.c_str(),
                                              m_target.provider_id(), in.data(), in.size(),
                                              timeout_ms, &detail::async_ignore, nullptr);
            if (r != HG_SUCCESS) detail::throw_call_error(where(), r);
            return packed_data();
        }
        void*       out     = nullptr;
        size_t      out_len = 0;
        hg_return_t r = frt_forward(st->mid(), m_target.get_addr(), m_name.c_str(),
                                    m_target.provider_id(), in.data(), in.size(), timeout_ms,
                                    &out, &out_len);
        if (r != HG_SUCCESS) detail::throw_call_error(where(), r);
        return packed_data(out, out_len);
    }

    std::weak_ptr<detail::engine_state> m_engine;
    std::string                         m_name;
    provider_handle                     m_target;
    bool                                m_no_response;
};

/** A named RPC of an engine (returned by engine::define / provider::define). */
class remote_procedure {
  public:
    remote_procedure() = default;
    remote_procedure(std::weak_ptr<detail::engine_state> eng, std::string name,
                     uint16_t provider_id = 0, bool has_handler = false)
    : m_engine(std::move(eng))
    , m_name(std::move(name))
    , m_provider_id(provider_id)
    , m_has_handler(has_handler)
    {
    }

    callable_remote_procedure on(const endpoint& ep) const
    {
        return callable_remote_procedure(m_engine, m_name, provider_handle(ep, 0), m_no_response);
    }
    callable_remote_procedure on(const provider_handle& ph) const
    {
        return callable_remote_procedure(m_engine, m_name, ph, m_no_response);
    }

    /** Calls return at once and get no response (the handler's is dropped). */
    remote_procedure& disable_response()
    {
        m_no_response = true;
        return *this;
    }

    /** Remove the handler this object defined (no-op for a client-side one). */
    void deregister()
    {
        if (!m_has_handler) return;
        if (auto st = m_engine.lock()) st->deregister_rpc(m_name, m_provider_id);
        m_has_handler = false;
    }

    const std::string& name() const { return m_name; }

  protected:
    std::weak_ptr<detail::engine_state> m_engine;
    std::string                         m_name;
    uint16_t                            m_provider_id = 0;
    bool                                m_has_handler = false;
    bool                                m_no_response = false;
};

/** A remote_procedure that deregisters its handler when destroyed. */
class auto_remote_procedure : public remote_procedure {
  public:
    auto_remote_procedure() = default;
    auto_remote_procedure(remote_procedure&& rp) : remote_procedure(std::move(rp)) {}
    auto_remote_procedure(const auto_remote_procedure&)            = delete;
    auto_remote_procedure& operator=(const auto_remote_procedure&) = delete;
    auto_remote_procedure(auto_remote_procedure&& o) noexcept : remote_procedure(std::move(o))
    {
        o.m_has_handler = false;
    }
    ~auto_remote_procedure() { deregister(); }
};

/* ------------------------------------------------------------------ */
/* engine                                                               */
/* ------------------------------------------------------------------ */

class engine {
    friend class endpoint;
    friend class request;
    template <typename T> friend class provider;

  public:
    /** A null engine. */
    engine() = default;

    /** Start a runtime instance on addr ("na+sm", "ofi+tcp", "tcp://127.0.0.1:0", ...)
     *  in mode THALLIUM_SERVER_MODE or THALLIUM_CLIENT_MODE; the last copy of
     *  the engine finalizes it. Throws thallium::exception on failure. */
    engine(const std::string& addr, int mode, bool use_progress_thread = false,
           std::int32_t rpc_thread_count = 0)
    {
        if (mode != THALLIUM_SERVER_MODE && mode != THALLIUM_CLIENT_MODE)
            throw exception("thallium: engine mode must be THALLIUM_SERVER_MODE or "
                            "THALLIUM_CLIENT_MODE, not " + std::to_string(mode));
        margo_instance_id mid =
            margo_init(addr.c_str(), mode, use_progress_thread ? 1 : 0, rpc_thread_count);
        if (mid == MARGO_INSTANCE_NULL)
            throw exception("thallium: cannot start an engine on \"" + addr
                            + "\" (bad or unavailable address; see the log)");
        try {
            m_state = std::make_shared<detail::engine_state>(mid, true);
        } catch (...) {
            margo_finalize(mid);
            throw;
        }
    }

    /** Wrap an instance; with take_ownership the last copy finalizes it,
     *  otherwise the engine holds a margo reference on it. */
    engine(margo_instance_id mid, bool take_ownership = false)
    {
        if (mid != MARGO_INSTANCE_NULL)
            m_state = std::make_shared<detail::engine_state>(mid, take_ownership);
    }

    margo_instance_id get_margo_instance() const
    {
        return m_state ? m_state->mid() : MARGO_INSTANCE_NULL;
    }
    explicit operator bool() const { return m_state != nullptr; }
    bool     is_listening() const { return margo_is_listening(state("is_listening")->mid()); }

    endpoint self() const
    {
        auto      st   = state("self");
        hg_addr_t addr = HG_ADDR_NULL;
        hg_return_t r  = margo_addr_self(st->mid(), &addr);
        if (r != HG_SUCCESS) throw margo_exception("thallium: self", r);
        return endpoint(*this, addr);
    }

    /** Parse address and check that a peer answers there (throws
     *  thallium::margo_exception for a bad address or a dead peer). */
    endpoint lookup(const std::string& address) const
    {
        auto        st   = state("lookup");
        hg_addr_t   addr = HG_ADDR_NULL;
        hg_return_t r    = margo_addr_lookup(st->mid(), address.c_str(), &addr);
        if (r != HG_SUCCESS) throw margo_exception("thallium: lookup of \"" + address + "\"", r);
        endpoint ep(*this, addr);
        /* a probe: an unknown RPC answers HG_NOENTRY when somebody is there */
        r = frt_forward(st->mid(), addr, "__thallium_probe", MARGO_MAX_PROVIDER_ID, nullptr, 0,
                        lookup_timeout_ms, nullptr, nullptr);
        if (r != HG_NOENTRY && r != HG_SUCCESS)
            throw margo_exception("thallium: lookup of \"" + address + "\": no peer answers", r);
        return ep;
    }

    void finalize()
    {
        if (m_state) m_state->finalize();
    }
    void wait_for_finalize()
    {
        if (m_state) m_state->wait_for_finalize();
    }

    /** Callbacks run (LIFO) when the instance finalizes, network still up. */
    void push_finalize_callback(const std::function<void()>& cb) { push_finalize_callback(nullptr, cb); }
    void push_finalize_callback(const void* owner, const std::function<void()>& cb)
    {
        state("push_finalize_callback")->push_finalize_callback(owner, cb);
    }
    bool pop_finalize_callback() { return pop_finalize_callback(nullptr); }
    bool pop_finalize_callback(const void* owner)
    {
        return m_state && m_state->pop_finalize_callback(owner);
    }

    /** A client-side handle on RPC name (no handler here). */
    remote_procedure define(const std::string& name) const
    {
        return remote_procedure(state("define")->weak_from_this(), name);
    }

    /** Register handler (void(const request&, Args...)) for name at provider_id. */
    template <typename F>
    remote_procedure define(const std::string& name, F&& handler, uint16_t provider_id = 0,
                            const pool& p = pool()) const
    {
        using traits = detail::callable_traits<std::decay_t<F>>;
        using args   = typename detail::decayed_tuple<
            typename detail::tail<typename traits::args>::type>::type;
        auto st = state("define");
        auto box = detail::make_box<args>(
            st, name, provider_id,
            [fn = std::decay_t<F>(std::forward<F>(handler))](const request& req, args& a) mutable {
                detail::call_handler<true, typename traits::ret>(req, fn, a, false);
            });
        st->register_rpc(name, provider_id, std::move(box), p.native_handle());
        return remote_procedure(st, name, provider_id, true);
    }

    /** How long lookup() waits for a peer's answer. */
    static constexpr double lookup_timeout_ms = 10000.0;

  private:
    explicit engine(std::shared_ptr<detail::engine_state> st) : m_state(std::move(st)) {}

    std::shared_ptr<detail::engine_state> state(const char* what) const
    {
        if (!m_state) throw exception(std::string("thallium: ") + what + " on a null engine");
        m_state->check_alive(what);
        return m_state;
    }

    std::shared_ptr<detail::engine_state> m_state;
};

inline endpoint::endpoint(const engine& e, hg_addr_t addr, bool take_ownership)
: m_engine(e.m_state)
{
    if (take_ownership || !addr)
        m_addr = addr;
    else
        margo_addr_dup(mid(), addr, &m_addr);
}

inline engine endpoint::get_engine() const { return engine(m_engine.lock()); }

inline provider_handle::provider_handle(const engine& e, const std::string& address,
                                        uint16_t provider_id)
: endpoint(e.lookup(address)), m_provider_id(provider_id)
{
}

inline endpoint request::get_endpoint() const
{
    if (!m_state) throw exception("thallium: get_endpoint on a null request");
    std::lock_guard<std::mutex> g(m_state->lock);
    if (m_state->responded) throw exception("thallium: get_endpoint after the response");
    auto st = m_state->engine.lock();
    if (!st) throw exception("thallium: get_endpoint: engine destroyed");
    hg_addr_t   addr = HG_ADDR_NULL;
    hg_return_t r    = margo_addr_lookup(st->mid(), frt_request_source(m_state->req), &addr);
    if (r != HG_SUCCESS) throw margo_exception("thallium: get_endpoint", r);
    return endpoint(engine(st), addr);
}

/** Print an endpoint's address on any stream. */
template <typename S> S& operator<<(S& s, const endpoint& ep)
{
    s << static_cast<std::string>(ep);
    return s;
}

/* ------------------------------------------------------------------ */
/* provider<T>: a class whose methods are RPCs at one provider id       */
/* ------------------------------------------------------------------ */

template <typename Derived> class provider {
  public:
    provider(const provider&)            = delete;
    provider& operator=(const provider&) = delete;

    const engine& get_engine() const { return m_engine; }
    uint16_t      get_provider_id() const { return m_provider_id; }

  protected:
    provider(const engine& e, uint16_t provider_id, const std::string& identity = "")
    : m_engine(e), m_provider_id(provider_id)
    {
        (void)identity;
    }

    /** Deregisters the RPCs this provider defined (unless finalized). */
    virtual ~provider()
    {
        if (!m_engine.m_state) return;
        for (const auto& n : m_defined) m_engine.m_state->deregister_rpc(n, m_provider_id);
    }

    /** A method R(const request&, Args...) or R(Args...) as RPC name; a
     *  non-void result is the response (unless ignore_return_value). */
    template <typename M>
    remote_procedure define(const std::string& name, M method, const pool& p = pool())
    {
        return define_method(name, method, false, p);
    }
    template <typename M>
    remote_procedure define(const std::string& name, M method, ignore_return_value,
                            const pool& p = pool())
    {
        return define_method(name, method, true, p);
    }

  private:
    template <typename M>
    remote_procedure define_method(const std::string& name, M method, bool ignore, const pool& p)
    {
        using traits    = detail::callable_traits<M>;
        using params    = typename traits::args;
        constexpr bool with_req =
            std::tuple_size<params>::value > 0
            && std::is_same<std::decay_t<std::tuple_element_t<0, std::conditional_t<
                                std::tuple_size<params>::value == 0, std::tuple<int>, params>>>,
                            request>::value;
        using args = typename detail::decayed_tuple<std::conditional_t<
            with_req, typename detail::tail<std::conditional_t<
                          std::tuple_size<params>::value == 0, std::tuple<int>, params>>::type,
            params>>::type;
        auto st   = m_engine.state("define");
        auto self = static_cast<Derived*>(this);
        auto box  = detail::make_box<args>(
            st, name, m_provider_id, [self, method, ignore](const request& req, args& a) {
                auto bound = [self, method](auto&&... x) -> decltype(auto) {
                    return (self->*method)(std::forward<decltype(x)>(x)...);
                };
                detail::call_handler<with_req, typename traits::ret>(req, bound, a, ignore);
            });
        st->register_rpc(name, m_provider_id, std::move(box), p.native_handle());
        m_defined.push_back(name);
        return remote_procedure(st, name, m_provider_id, true);
    }

    engine                   m_engine;
    uint16_t                 m_provider_id;
    std::vector<std::string> m_defined;
};

} // namespace thallium

#endif /* THALLIUM_ENGINE_HPP */
