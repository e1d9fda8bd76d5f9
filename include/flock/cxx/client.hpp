/*
 * flock/cxx/client.hpp -- flock::Client, a move-only wrapper of
 * flock_client_t. (Mochi's version also has Thallium constructors; this
 * project has no Thallium, only the margo_instance_id ones.)
 */
#ifndef FLOCK_CXX_CLIENT_HPP
#define FLOCK_CXX_CLIENT_HPP

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
    }

    ~Client()
    {
        if (m_client) flock_client_finalize(m_client);
    }

    Client(Client&& other) noexcept : m_mid(other.m_mid), m_client(other.m_client)
    {
        other.m_client = FLOCK_CLIENT_NULL;
    }

    Client& operator=(Client&& other) noexcept
    {
        if (this == &other) return *this;
        if (m_client) flock_client_finalize(m_client);
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

    GroupHandle makeGroupHandle(const std::string& address, uint16_t provider_id,
                                uint32_t mode = 0) const
    {
        hg_addr_t addr = HG_ADDR_NULL;
        if (margo_addr_lookup(m_mid, address.c_str(), &addr) != HG_SUCCESS)
            throw Exception(FLOCK_ERR_FROM_MERCURY);
        flock_group_handle_t gh  = FLOCK_GROUP_HANDLE_NULL;
        flock_return_t       ret = flock_group_handle_create(m_client, addr, provider_id, mode, &gh);
        margo_addr_free(m_mid, addr);
        FLOCK_CONVERT_AND_THROW(ret);
        return GroupHandle(gh, false);
    }

    flock_client_t handle() const { return m_client; }
    operator flock_client_t() const { return m_client; }
    margo_instance_id mid() const { return m_mid; }

  private:
    margo_instance_id m_mid    = MARGO_INSTANCE_NULL;
    flock_client_t    m_client = FLOCK_CLIENT_NULL;
};

} // namespace flock

#endif /* FLOCK_CXX_CLIENT_HPP */
