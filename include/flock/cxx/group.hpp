/*
 * flock/cxx/group.hpp -- flock::GroupHandle, a reference-counted wrapper of
 * flock_group_handle_t.
 */
#ifndef FLOCK_CXX_GROUP_HPP
#define FLOCK_CXX_GROUP_HPP

#include <string>
#include <string_view>
#include <flock/flock-group.h>
#include <flock/cxx/exception.hpp>
#include <flock/cxx/group-view.hpp>

namespace flock {

class Client;

class GroupHandle {
    friend class Client;

  public:
    GroupHandle() = default;

    /** Wrap a C handle; copy=true takes a new reference, false adopts it. */
    GroupHandle(flock_group_handle_t gh, bool copy = true) : m_gh(gh)
    {
        if (copy && m_gh) FLOCK_CONVERT_AND_THROW(flock_group_handle_ref_incr(m_gh));
    }

    /** Handle on (addr, provider_id); `check` is the creation mode
     *  (true = FLOCK_MODE_INIT_UPDATE). */
    GroupHandle(flock_client_t client, hg_addr_t addr, uint16_t provider_id, bool check = true)
    {
        FLOCK_CONVERT_AND_THROW(
            flock_group_handle_create(client, addr, provider_id, check ? 1u : 0u, &m_gh));
    }

    GroupHandle(const GroupHandle& other) : m_gh(other.m_gh)
    {
        if (m_gh) FLOCK_CONVERT_AND_THROW(flock_group_handle_ref_incr(m_gh));
    }

    GroupHandle(GroupHandle&& other) noexcept : m_gh(other.m_gh)
    {
        other.m_gh = FLOCK_GROUP_HANDLE_NULL;
    }

    GroupHandle& operator=(const GroupHandle& other)
    {
        if (this == &other || m_gh == other.m_gh) return *this;
        if (other.m_gh) FLOCK_CONVERT_AND_THROW(flock_group_handle_ref_incr(other.m_gh));
        if (m_gh) flock_group_handle_release(m_gh);
        m_gh = other.m_gh;
        return *this;
    }

    GroupHandle& operator=(GroupHandle&& other) noexcept
    {
        if (this == &other) return *this;
        if (m_gh) flock_group_handle_release(m_gh);
        m_gh       = other.m_gh;
        other.m_gh = FLOCK_GROUP_HANDLE_NULL;
        return *this;
    }

    ~GroupHandle()
    {
        if (m_gh) flock_group_handle_release(m_gh);
    }

    static GroupHandle FromFile(flock_client_t client, const char* filename, uint32_t mode = 0)
    {
        flock_group_handle_t gh = FLOCK_GROUP_HANDLE_NULL;
        FLOCK_CONVERT_AND_THROW(flock_group_handle_create_from_file(client, filename, mode, &gh));
        return GroupHandle(gh, false);
    }

    static GroupHandle FromFile(flock_client_t client, const std::string& filename,
                                uint32_t mode = 0)
    {
        return FromFile(client, filename.c_str(), mode);
    }

    static GroupHandle FromSerialized(flock_client_t client, std::string_view serialized,
                                      uint32_t mode = 0)
    {
        flock_group_handle_t gh = FLOCK_GROUP_HANDLE_NULL;
        FLOCK_CONVERT_AND_THROW(flock_group_handle_create_from_serialized(
            client, serialized.data(), serialized.size(), mode, &gh));
        return GroupHandle(gh, false);
    }

    /** A copy of the cached view. */
    GroupView view() const
    {
        flock_group_view_t v = FLOCK_GROUP_VIEW_INITIALIZER;
        FLOCK_CONVERT_AND_THROW(flock_group_get_view(m_gh, &v));
        return GroupView(v);
    }

    /** Refresh the cached view (blocking). */
    void update() const { FLOCK_CONVERT_AND_THROW(flock_group_update_view(m_gh, nullptr)); }

    /** Set a metadata entry of the group (flock_group_metadata_set; a
     *  static group throws FLOCK_ERR_OP_FORBIDDEN). */
    void setMetadata(const std::string& key, const std::string& value) const
    {
        FLOCK_CONVERT_AND_THROW(flock_group_metadata_set(m_gh, key.c_str(), value.c_str()));
    }

    /** Remove a metadata entry of the group (no error if absent). */
    void removeMetadata(const std::string& key) const
    {
        FLOCK_CONVERT_AND_THROW(flock_group_metadata_set(m_gh, key.c_str(), nullptr));
    }

    /** Subscribe to the group's changes (flock_group_subscribe): context
     *  must stay valid until unsubscribe() or the last handle copy is gone. */
    void subscribe(flock_membership_update_fn member_update, flock_metadata_update_fn metadata_update,
                   void* context) const
    {
        FLOCK_CONVERT_AND_THROW(flock_group_subscribe(m_gh, member_update, metadata_update, context));
    }

    /** Stop the subscription (flock_group_unsubscribe). */
    void unsubscribe() const { FLOCK_CONVERT_AND_THROW(flock_group_unsubscribe(m_gh)); }

    flock_group_handle_t handle() const { return m_gh; }
    operator flock_group_handle_t() const { return m_gh; }

  private:
    flock_group_handle_t m_gh = FLOCK_GROUP_HANDLE_NULL;
};

} // namespace flock

#endif /* FLOCK_CXX_GROUP_HPP */
