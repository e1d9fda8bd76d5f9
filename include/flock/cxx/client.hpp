/*
 * flock/cxx/client.hpp -- flock::Client, a move-only wrapper of
 * flock_client_t, built from a thallium::engine (this project's
 * <thallium.hpp>) or from a margo_instance_id. It keeps a copy of its
 * engine (engine()) and looks addresses up through it.
 */
#ifndef FLOCK_CXX_CLIENT_HPP
#define FLOCK_CXX_CLIENT_HPP

#include <thallium.hpp>
#include <string>
#include <flock/flock-client.h>
#include <flock/cxx/exception.hpp>
#include <flock/cxx/group.hpp>

namespace flock {

class Client {
  public:
    Client() = default;

    Client(margo_instance_id mid, ABT_pool pool = ABT_POOL_NULL) : m_mid(mid)
    {
        FLOCK_CONVERT_AND_THROW(flock_client_init(mid, pool, &m_client));
        m_engine = thallium::engine(mid);
    }

    /** A client on engine's instance (the Client keeps a copy of engine). */
    Client(const thallium::engine& engine, thallium::pool pool = thallium::pool())
    : m_engine(engine), m_mid(engine.get_margo_instance())
    {
        FLOCK_CONVERT_AND_THROW(flock_client_init(m_mid, pool.native_handle(), &m_client));
    }

    ~Client()
    {
        if (m_client) flock_client_finalize(m_client);
    }

    Client(Client&& other) noexcept
    : m_engine(std::move(other.m_engine)), m_mid(other.m_mid), m_client(other.m_client)
    {
        other.m_client = FLOCK_CLIENT_NULL;
    }

    Client& operator=(Client&& other) noexcept
    {
        if (this == &other) return *this;
        if (m_client) flock_client_finalize(m_client);
        m_engine       = std::move(other.m_engine);
        m_mid          = other.m_mid;
        m_client       = other.m_client;
        other.m_client = FLOCK_CLIENT_NULL;
        return *this;
    }

    Client(const Client&)            = delete;
    Client& operator=(const Client&) = delete;

    GroupHandle makeGroupHandle(hg_addr_t addr, uint16_t provider_id, uint32_t mode = 0) const
    {
        flock_group_handle_t gh = FLOCK_GROUP_HANDLE_NULL;
        FLOCK_CONVERT_AND_THROW(flock_group_handle_create(m_client, addr, provider_id, mode, &gh));
        return GroupHandle(gh, false);
    }

    /** Look address up through the engine (a bad address or a dead peer
     *  throws the engine's thallium::exception, as upstream). */
    GroupHandle makeGroupHandle(const std::string& address, uint16_t provider_id,
                                uint32_t mode = 0) const
    {
        thallium::endpoint ep = m_engine.lookup(address);
        return makeGroupHandle(ep.get_addr(), provider_id, mode);
    }

    flock_client_t handle() const { return m_client; }
    operator flock_client_t() const { return m_client; }
    margo_instance_id mid() const { return m_mid; }
    thallium::engine  engine() const { return m_engine; }

  private:
    thallium::engine  m_engine;
    margo_instance_id m_mid    = MARGO_INSTANCE_NULL;
    flock_client_t    m_client = FLOCK_CLIENT_NULL;
};

} // namespace flock

#endif /* FLOCK_CXX_CLIENT_HPP */
