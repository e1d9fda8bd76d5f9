/*
 * flock/cxx/group-view.hpp -- flock::GroupView, an owning, move-only
 * wrapper of flock_group_view_t (copy() makes a deep copy). Like the C
 * helpers, its methods do not lock; use lock()/unlock() when sharing it.
 */
#ifndef FLOCK_CXX_GROUP_VIEW_HPP
#define FLOCK_CXX_GROUP_VIEW_HPP

#include <cstdint>
#include <stdexcept>
#include <string>
#include <flock/flock-group-view.h>
#include <flock/cxx/exception.hpp>

namespace flock {

class Provider;
class GroupHandle;

class GroupView {
    friend class Provider;
    friend class GroupHandle;

  public:
    struct Member {
        std::string address;
        uint16_t    provider_id;
    };

    struct Metadata {
        std::string key;
        std::string value;
    };

    struct MembersProxy {
        /** Add a member (throws FLOCK_ERR_ALLOCATION). */
        void add(const char* address, uint16_t provider_id)
        {
            if (!address) throw Exception(FLOCK_ERR_INVALID_ARGS);
            if (!flock_group_view_add_member(&m_owner.m_view, address, provider_id))
                throw Exception(FLOCK_ERR_ALLOCATION);
        }
        /** Remove the member at index (throws FLOCK_ERR_NO_MEMBER). */
        void remove(size_t index)
        {
            flock_member_t* m = flock_group_view_member_at(&m_owner.m_view, index);
            if (!m || !flock_group_view_remove_member(&m_owner.m_view, m))
                throw Exception(FLOCK_ERR_NO_MEMBER);
        }
        /** Remove a member (throws FLOCK_ERR_NO_MEMBER). */
        void remove(const char* address, uint16_t provider_id)
        {
            flock_member_t* m =
                flock_group_view_find_member(&m_owner.m_view, address, provider_id);
            if (!m || !flock_group_view_remove_member(&m_owner.m_view, m))
                throw Exception(FLOCK_ERR_NO_MEMBER);
        }
        bool exists(const char* address, uint16_t provider_id) const
        {
            return flock_group_view_find_member(&m_owner.m_view, address, provider_id) != nullptr;
        }
        size_t count() const { return flock_group_view_member_count(&m_owner.m_view); }
        /** The member at index i (throws std::out_of_range). */
        Member operator[](size_t i) const
        {
            flock_member_t* m = flock_group_view_member_at(&m_owner.m_view, i);
            if (!m) throw std::out_of_range("Invalid member index");
            return Member{m->address, m->provider_id};
        }

      private:
        friend class GroupView;
        MembersProxy(GroupView& owner) : m_owner(owner) {}
        GroupView& m_owner;
    };

    struct MetadataProxy {
        /** Set key to value (throws FLOCK_ERR_ALLOCATION). */
        void add(const char* key, const char* value)
        {
            if (!key || !value) throw Exception(FLOCK_ERR_INVALID_ARGS);
            if (!flock_group_view_add_metadata(&m_owner.m_view, key, value))
                throw Exception(FLOCK_ERR_ALLOCATION);
        }
        /** Remove key (no error if absent). */
        void remove(const char* key) { flock_group_view_remove_metadata(&m_owner.m_view, key); }
        size_t count() const { return flock_group_view_metadata_count(&m_owner.m_view); }
        /** The entry at index i (throws std::out_of_range). */
        Metadata operator[](size_t i) const
        {
            flock_metadata_t* md = flock_group_view_metadata_at(&m_owner.m_view, i);
            if (!md) throw std::out_of_range("Invalid metadata index");
            return Metadata{md->key, md->value};
        }
        /** The value of key, or nullptr. */
        const char* operator[](const char* key) const
        {
            return flock_group_view_find_metadata(&m_owner.m_view, key);
        }

      private:
        friend class GroupView;
        MetadataProxy(GroupView& owner) : m_owner(owner) {}
        GroupView& m_owner;
    };

    GroupView() = default;

    /** Take the content of a C view (which is left empty). */
    GroupView(flock_group_view_t view) { FLOCK_GROUP_VIEW_MOVE(&view, &m_view); }

    ~GroupView() { flock_group_view_clear(&m_view); }

    GroupView(GroupView&& other) noexcept { FLOCK_GROUP_VIEW_MOVE(&other.m_view, &m_view); }

    GroupView& operator=(GroupView&& other) noexcept
    {
        if (this != &other) {
            flock_group_view_clear(&m_view);
            FLOCK_GROUP_VIEW_MOVE(&other.m_view, &m_view);
        }
        return *this;
    }

    GroupView(const GroupView&)            = delete;
    GroupView& operator=(const GroupView&) = delete;

    /** Deep copy (throws FLOCK_ERR_ALLOCATION). */
    GroupView copy() const
    {
        GroupView result;
        if (!flock_group_view_copy(&m_view, &result.m_view)) throw Exception(FLOCK_ERR_ALLOCATION);
        return result;
    }

    uint64_t digest() const { return flock_group_view_digest(&m_view); }
    void     lock() { FLOCK_GROUP_VIEW_LOCK(&m_view); }
    void     unlock() { FLOCK_GROUP_VIEW_UNLOCK(&m_view); }
    void     clear() { flock_group_view_clear(&m_view); }

    MembersProxy  members() { return MembersProxy(*this); }
    MetadataProxy metadata() { return MetadataProxy(*this); }

    /** The JSON text of the view (FLOCK-SPEC 5.4). */
    operator std::string() const
    {
        std::string result;
        FLOCK_CONVERT_AND_THROW(flock_group_view_serialize(
            &m_view,
            [](void* ctx, const char* data, size_t size) {
                static_cast<std::string*>(ctx)->assign(data, size);
            },
            &result));
        return result;
    }

  private:
    /* mutable: the helpers take non-const pointers for lookups */
    mutable flock_group_view_t m_view = FLOCK_GROUP_VIEW_INITIALIZER;
};

} // namespace flock

#endif /* FLOCK_CXX_GROUP_VIEW_HPP */
