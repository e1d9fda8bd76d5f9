/*
 * thallium/serialization.hpp -- the archives of this project's Thallium
 * shim: how RPC arguments and responses become bytes and back.
 *
 * Owns: thallium::output_archive / input_archive and the encoding of the
 * standard types. Calls only the checked codec of <frt.h>.
 *
 * Wire form (little-endian, no padding): bool and 8-bit integers one byte,
 * 16/32/64-bit integers their width, float 4 bytes, double 8 bytes (IEEE
 * bits), enums as their underlying type; std::string / std::vector /
 * std::list / std::deque / std::set / std::map / std::unordered_* a u32
 * count then the elements; std::array and std::pair / std::tuple their
 * elements in order; std::optional a presence byte then the value; user
 * types whatever their `serialize(Archive&)` member (or `save`/`load`
 * pair, or a free `serialize(Archive&, T&)`) writes with `ar & x` or
 * `ar(x, y, ...)`.
 *
 * Decoding is checked: a count larger than what the payload can hold, a
 * read past the end, a count above FRT_MAX_PAYLOAD or a bad bool/optional
 * byte throws thallium::exception ("truncated or malformed payload ...");
 * nothing is allocated from a count before the bytes are known to exist.
 */
#ifndef THALLIUM_SERIALIZATION_HPP
#define THALLIUM_SERIALIZATION_HPP

#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>
#include <frt.h>
#include <thallium/exception.hpp>

namespace thallium {

class output_archive;
class input_archive;

namespace detail {

/* has a member template serialize(A&) / save(A&) const / load(A&) */
template <typename T, typename A, typename = void> struct has_member_serialize : std::false_type {};
template <typename T, typename A>
struct has_member_serialize<T, A, std::void_t<decltype(std::declval<T&>().serialize(std::declval<A&>()))>>
    : std::true_type {};
template <typename T, typename = void> struct has_member_save : std::false_type {};
template <typename T>
struct has_member_save<
    T, std::void_t<decltype(std::declval<const T&>().save(std::declval<output_archive&>()))>>
    : std::true_type {};
template <typename T, typename = void> struct has_member_load : std::false_type {};
template <typename T>
struct has_member_load<T,
                       std::void_t<decltype(std::declval<T&>().load(std::declval<input_archive&>()))>>
    : std::true_type {};
/* a free serialize(A&, T&) found by ADL */
template <typename T, typename A, typename = void> struct has_free_serialize : std::false_type {};
template <typename T, typename A>
struct has_free_serialize<T, A,
                          std::void_t<decltype(serialize(std::declval<A&>(), std::declval<T&>()))>>
    : std::true_type {};

template <typename T> struct dependent_false : std::false_type {};

/* Upper bound on an element count read from a payload. */
constexpr uint64_t max_count = FRT_MAX_PAYLOAD;

} // namespace detail

/** Writes values into a growable buffer (`ar & v`, `ar(v...)`, `ar.write`). */
class output_archive {
  public:
    output_archive() = default;
    ~output_archive() { frt_wbuf_free(&m_buf); }
    output_archive(const output_archive&)            = delete;
    output_archive& operator=(const output_archive&) = delete;

    template <typename T> output_archive& operator&(const T& v)
    {
        save(v);
        return *this;
    }
    template <typename T> output_archive& operator<<(const T& v) { return (*this) & v; }
    template <typename... T> void operator()(const T&... v) { (save(v), ...); }

    /** Raw bytes (no length prefix). */
    void write(const void* data, size_t n) { frt_put_bytes(&m_buf, data, n); }
    template <typename T> void write(const T* data, size_t count = 1)
    {
        static_assert(std::is_trivially_copyable<T>::value, "write: trivially copyable types only");
        write(static_cast<const void*>(data), count * sizeof(T));
    }

    const uint8_t* data() const { return m_buf.data; }
    size_t         size() const { return m_buf.len; }
    /** Throws if an allocation failed while writing. */
    void check() const
    {
        if (m_buf.failed) throw exception("thallium: out of memory while serializing");
        if (m_buf.len > FRT_MAX_PAYLOAD)
            throw exception("thallium: payload of " + std::to_string(m_buf.len)
                            + " bytes exceeds the 16 MiB limit");
    }

    template <typename T> void save(const T& v);

  private:
    frt_wbuf m_buf = FRT_WBUF_INIT;
};

/** Reads values from a byte string it does not own; every read is checked. */
class input_archive {
  public:
    input_archive(const void* data, size_t len) { frt_rbuf_init(&m_buf, data, len); }
    input_archive(const input_archive&)            = delete;
    input_archive& operator=(const input_archive&) = delete;

    template <typename T> input_archive& operator&(T& v)
    {
        load(v);
        return *this;
    }
    template <typename T> input_archive& operator>>(T& v) { return (*this) & v; }
    template <typename... T> void operator()(T&... v) { (load(v), ...); }

    void read(void* out, size_t n)
    {
        if (!frt_get_bytes(&m_buf, out, n)) fail("raw bytes");
    }
    template <typename T> void read(T* out, size_t count = 1)
    {
        static_assert(std::is_trivially_copyable<T>::value, "read: trivially copyable types only");
        read(static_cast<void*>(out), count * sizeof(T));
    }

    size_t remaining() const { return m_buf.left; }
    bool   done() const { return frt_rbuf_done(&m_buf); }

    [[noreturn]] void fail(const char* what) const
    {
        throw exception(std::string("thallium: truncated or malformed payload (") + what + ")");
    }

    /** A u32 element count, at most detail::max_count. */
    uint32_t get_count(const char* what)
    {
        uint32_t n = frt_get_u32(&m_buf);
        if (m_buf.failed) fail(what);
        if (n > detail::max_count) fail(what);
        return n;
    }

    uint8_t  get_u8() { return checked(frt_get_u8(&m_buf), "u8"); }
    uint16_t get_u16() { return checked(frt_get_u16(&m_buf), "u16"); }
    uint32_t get_u32() { return checked(frt_get_u32(&m_buf), "u32"); }
    uint64_t get_u64() { return checked(frt_get_u64(&m_buf), "u64"); }

    template <typename T> void load(T& v);

  private:
    template <typename U> U checked(U v, const char* what)
    {
        if (m_buf.failed) fail(what);
        return v;
    }
    frt_rbuf m_buf;
};

/* ------------------------------------------------------------------ */
/* Encoding of each kind of type                                       */
/* ------------------------------------------------------------------ */

namespace detail {

template <typename T> struct is_pair : std::false_type {};
template <typename A, typename B> struct is_pair<std::pair<A, B>> : std::true_type {};
template <typename T> struct is_tuple : std::false_type {};
template <typename... A> struct is_tuple<std::tuple<A...>> : std::true_type {};
template <typename T> struct is_array : std::false_type {};
template <typename A, size_t N> struct is_array<std::array<A, N>> : std::true_type {};
template <typename T> struct is_optional : std::false_type {};
template <typename A> struct is_optional<std::optional<A>> : std::true_type {};
/* sequences that push_back */
template <typename T> struct is_sequence : std::false_type {};
template <typename A, typename Al> struct is_sequence<std::vector<A, Al>> : std::true_type {};
template <typename A, typename Al> struct is_sequence<std::list<A, Al>> : std::true_type {};
template <typename A, typename Al> struct is_sequence<std::deque<A, Al>> : std::true_type {};
template <typename T> struct is_vector : std::false_type {};
template <typename A, typename Al> struct is_vector<std::vector<A, Al>> : std::true_type {};
/* associative containers that insert */
template <typename T> struct is_assoc : std::false_type {};
template <typename K, typename V, typename C, typename A>
struct is_assoc<std::map<K, V, C, A>> : std::true_type {};
template <typename K, typename V, typename C, typename A>
struct is_assoc<std::multimap<K, V, C, A>> : std::true_type {};
template <typename K, typename C, typename A> struct is_assoc<std::set<K, C, A>> : std::true_type {};
template <typename K, typename C, typename A>
struct is_assoc<std::multiset<K, C, A>> : std::true_type {};
template <typename K, typename V, typename H, typename E, typename A>
struct is_assoc<std::unordered_map<K, V, H, E, A>> : std::true_type {};
template <typename K, typename H, typename E, typename A>
struct is_assoc<std::unordered_set<K, H, E, A>> : std::true_type {};

/* the element type to decode into: map values are pair<K, V>, not pair<const K, V> */
template <typename T> struct decoded_value { using type = typename T::value_type; };
template <typename K, typename V, typename C, typename A>
struct decoded_value<std::map<K, V, C, A>> { using type = std::pair<K, V>; };
template <typename K, typename V, typename C, typename A>
struct decoded_value<std::multimap<K, V, C, A>> { using type = std::pair<K, V>; };
template <typename K, typename V, typename H, typename E, typename A>
struct decoded_value<std::unordered_map<K, V, H, E, A>> { using type = std::pair<K, V>; };

template <typename T> void put_integral(frt_wbuf* b, T v)
{
    if constexpr (sizeof(T) == 1)
        frt_put_u8(b, static_cast<uint8_t>(v));
    else if constexpr (sizeof(T) == 2)
        frt_put_u16(b, static_cast<uint16_t>(v));
    else if constexpr (sizeof(T) == 4)
        frt_put_u32(b, static_cast<uint32_t>(v));
    else if constexpr (sizeof(T) == 8)
        frt_put_u64(b, static_cast<uint64_t>(v));
    else
        static_assert(dependent_false<T>::value, "integer width not supported");
}

} // namespace detail

template <typename T> void output_archive::save(const T& v)
{
    using namespace detail;
    if constexpr (std::is_same<T, bool>::value) {
        frt_put_u8(&m_buf, v ? 1 : 0);
    } else if constexpr (std::is_integral<T>::value) {
        put_integral(&m_buf, v);
    } else if constexpr (std::is_enum<T>::value) {
        save(static_cast<std::underlying_type_t<T>>(v));
    } else if constexpr (std::is_same<T, float>::value) {
        uint32_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        frt_put_u32(&m_buf, bits);
    } else if constexpr (std::is_same<T, double>::value) {
        frt_put_f64(&m_buf, v);
    } else if constexpr (std::is_same<T, std::string>::value) {
        if (v.size() > max_count) throw exception("thallium: string too long to serialize");
        frt_put_u32(&m_buf, static_cast<uint32_t>(v.size()));
        frt_put_bytes(&m_buf, v.data(), v.size());
    } else if constexpr (is_pair<T>::value) {
        save(v.first);
        save(v.second);
    } else if constexpr (is_tuple<T>::value) {
        std::apply([this](const auto&... e) { (save(e), ...); }, v);
    } else if constexpr (is_array<T>::value) {
        for (const auto& e : v) save(e);
    } else if constexpr (is_optional<T>::value) {
        frt_put_u8(&m_buf, v.has_value() ? 1 : 0);
        if (v) save(*v);
    } else if constexpr (is_sequence<T>::value || is_assoc<T>::value) {
        if (v.size() > max_count) throw exception("thallium: container too large to serialize");
        frt_put_u32(&m_buf, static_cast<uint32_t>(v.size()));
        for (const auto& e : v) save(e);
    } else if constexpr (has_member_serialize<T, output_archive>::value) {
        const_cast<T&>(v).serialize(*this); /* serialize() only reads when writing */
    } else if constexpr (has_member_save<T>::value) {
        v.save(*this);
    } else if constexpr (has_free_serialize<T, output_archive>::value) {
        serialize(*this, const_cast<T&>(v));
    } else {
        static_assert(dependent_false<T>::value,
                      "thallium: no serialization for this type (give it a serialize(A&) member)");
    }
}

template <typename T> void input_archive::load(T& v)
{
    using namespace detail;
    if constexpr (std::is_same<T, bool>::value) {
        uint8_t b = get_u8();
        if (b > 1) fail("bool");
        v = b != 0;
    } else if constexpr (std::is_integral<T>::value) {
        if constexpr (sizeof(T) == 1)
            v = static_cast<T>(get_u8());
        else if constexpr (sizeof(T) == 2)
            v = static_cast<T>(get_u16());
        else if constexpr (sizeof(T) == 4)
            v = static_cast<T>(get_u32());
        else if constexpr (sizeof(T) == 8)
            v = static_cast<T>(get_u64());
        else
            static_assert(dependent_false<T>::value, "integer width not supported");
    } else if constexpr (std::is_enum<T>::value) {
        std::underlying_type_t<T> u{};
        load(u);
        v = static_cast<T>(u);
    } else if constexpr (std::is_same<T, float>::value) {
        uint32_t bits = get_u32();
        std::memcpy(&v, &bits, sizeof bits);
    } else if constexpr (std::is_same<T, double>::value) {
        uint64_t bits = get_u64();
        std::memcpy(&v, &bits, sizeof bits);
    } else if constexpr (std::is_same<T, std::string>::value) {
        uint32_t n = get_count("string length");
        if (n > remaining()) fail("string");
        v.resize(n);
        if (n) read(&v[0], n);
    } else if constexpr (is_pair<T>::value) {
        load(v.first);
        load(v.second);
    } else if constexpr (is_tuple<T>::value) {
        std::apply([this](auto&... e) { (load(e), ...); }, v);
    } else if constexpr (is_array<T>::value) {
        for (auto& e : v) load(e);
    } else if constexpr (is_optional<T>::value) {
        uint8_t present = get_u8();
        if (present > 1) fail("optional");
        if (present) {
            typename T::value_type x{};
            load(x);
            v = std::move(x);
        } else {
            v.reset();
        }
    } else if constexpr (is_sequence<T>::value) {
        uint32_t n = get_count("element count");
        v.clear();
        if constexpr (is_vector<T>::value) /* never reserve more than the bytes left */
            v.reserve(n < remaining() ? n : remaining());
        for (uint32_t i = 0; i < n; i++) {
            typename T::value_type x{};
            load(x);
            v.push_back(std::move(x));
        }
    } else if constexpr (is_assoc<T>::value) {
        uint32_t n = get_count("element count");
        v.clear();
        for (uint32_t i = 0; i < n; i++) {
            typename decoded_value<T>::type x{};
            load(x);
            v.insert(std::move(x));
        }
    } else if constexpr (has_member_serialize<T, input_archive>::value) {
        v.serialize(*this);
    } else if constexpr (has_member_load<T>::value) {
        v.load(*this);
    } else if constexpr (has_free_serialize<T, input_archive>::value) {
        serialize(*this, v);
    } else {
        static_assert(dependent_false<T>::value,
                      "thallium: no serialization for this type (give it a serialize(A&) member)");
    }
}

/** Encode values in order into a byte string. */
template <typename... T> std::vector<char> serialize_to_bytes(const T&... v)
{
    output_archive ar;
    ar(v...);
    ar.check();
    return std::vector<char>(reinterpret_cast<const char*>(ar.data()),
                             reinterpret_cast<const char*>(ar.data()) + ar.size());
}

/** Decode one value that must use every byte (throws thallium::exception). */
template <typename T> T deserialize_from_bytes(const void* data, size_t len)
{
    input_archive ar(data, len);
    T             v{};
    ar.load(v);
    if (!ar.done()) ar.fail("trailing bytes");
    return v;
}

} // namespace thallium

#endif /* THALLIUM_SERIALIZATION_HPP */
