// test-serialization.cpp -- thallium/serialization.hpp: round trips of every
// supported kind of type, the wire form of a few, and hostile input: every
// truncation of a payload, counts larger than the payload, bad bool and
// optional bytes, trailing bytes. Decoding must throw thallium::exception,
// never crash, hang or allocate from a count (ASan/UBSan build).
#include <catch2/catch.hpp>
#include <thallium.hpp>
#include <cmath>
#include <cstring>
#include <limits>

namespace {

enum class Color : uint16_t { red = 1, green = 0x1234 };

struct Point {
    int32_t     x = 0, y = 0;
    std::string label;
    bool operator==(const Point& o) const { return x == o.x && y == o.y && label == o.label; }
    template <typename A> void serialize(A& ar) { ar & x & y & label; }
};

struct Shape { // save/load pair and nested user types
    std::vector<Point>              points;
    std::map<std::string, double>   attrs;
    bool operator==(const Shape& o) const { return points == o.points && attrs == o.attrs; }
    template <typename A> void save(A& ar) const { ar(points, attrs); }
    template <typename A> void load(A& ar) { ar(points, attrs); }
};

struct Legacy { // a free serialize found by ADL
    uint64_t id = 0;
    bool operator==(const Legacy& o) const { return id == o.id; }
};
template <typename A> void serialize(A& ar, Legacy& l) { ar & l.id; }

template <typename T> T round_trip(const T& v)
{
    std::vector<char> bytes = tl::serialize_to_bytes(v);
    return tl::deserialize_from_bytes<T>(bytes.data(), bytes.size());
}

template <typename T> void check_every_truncation_throws(const T& v)
{
    std::vector<char> bytes = tl::serialize_to_bytes(v);
    for (size_t n = 0; n < bytes.size(); n++) {
        std::vector<char> cut(bytes.begin(), bytes.begin() + n); // own buffer: ASan sees overreads
        CHECK_THROWS_AS(tl::deserialize_from_bytes<T>(cut.data(), cut.size()), tl::exception);
    }
    REQUIRE(round_trip(v) == v);
}

} // namespace

TEST_CASE("integers, floating point, bool and enums round-trip", "[serialization]")
{
    CHECK(round_trip<int8_t>(-128) == -128);
    CHECK(round_trip<uint8_t>(255) == 255);
    CHECK(round_trip<int16_t>(-32768) == -32768);
    CHECK(round_trip<uint16_t>(65535) == 65535);
    CHECK(round_trip<int32_t>(std::numeric_limits<int32_t>::min()) == std::numeric_limits<int32_t>::min());
    CHECK(round_trip<uint32_t>(0xdeadbeefu) == 0xdeadbeefu);
    CHECK(round_trip<int64_t>(std::numeric_limits<int64_t>::min()) == std::numeric_limits<int64_t>::min());
    CHECK(round_trip<uint64_t>(~0ull) == ~0ull);
    CHECK(round_trip<char>('z') == 'z');
    CHECK(round_trip<long long>(-5) == -5);
    CHECK(round_trip<size_t>(size_t(1) << 40) == (size_t(1) << 40));
    CHECK(round_trip(true) == true);
    CHECK(round_trip(false) == false);
    CHECK(round_trip(3.25f) == 3.25f);
    CHECK(round_trip(-1e300) == -1e300);
    CHECK(std::isnan(round_trip(std::numeric_limits<double>::quiet_NaN())));
    CHECK(round_trip(std::numeric_limits<double>::infinity()) == std::numeric_limits<double>::infinity());
    CHECK(round_trip(Color::green) == Color::green);
}

TEST_CASE("the wire form is little-endian and length-prefixed", "[serialization]")
{
    auto b = tl::serialize_to_bytes(uint32_t(0x01020304), std::string("ab"), Color::green);
    std::vector<char> expected = {4, 3, 2, 1, 2, 0, 0, 0, 'a', 'b', 0x34, 0x12};
    CHECK(b == expected);
    CHECK(tl::serialize_to_bytes(3.0f).size() == 4);
    CHECK(tl::serialize_to_bytes(3.0).size() == 8);
    CHECK(tl::serialize_to_bytes(true).size() == 1);
}

TEST_CASE("strings and standard containers round-trip", "[serialization]")
{
    std::string with_nul("a\0b", 3);
    CHECK(round_trip(with_nul) == with_nul);
    CHECK(round_trip(std::string()) == std::string());
    CHECK(round_trip(std::string(100000, 'x')) == std::string(100000, 'x'));
    std::vector<int> v = {1, -2, 3};
    CHECK(round_trip(v) == v);
    CHECK(round_trip(std::vector<std::string>{"", "x", "yz"}) == std::vector<std::string>{"", "x", "yz"});
    CHECK(round_trip(std::vector<bool>{true, false, true}) == std::vector<bool>{true, false, true});
    std::map<std::string, std::vector<double>> m = {{"a", {1.5}}, {"b", {}}};
    CHECK(round_trip(m) == m);
    std::unordered_map<int, std::string> um = {{1, "one"}, {2, "two"}};
    CHECK(round_trip(um) == um);
    CHECK(round_trip(std::set<int>{3, 1, 2}) == std::set<int>{1, 2, 3});
    CHECK(round_trip(std::list<int>{5, 6}) == std::list<int>{5, 6});
    CHECK(round_trip(std::deque<char>{'a'}) == std::deque<char>{'a'});
    CHECK(round_trip(std::array<int16_t, 3>{{1, 2, 3}}) == std::array<int16_t, 3>{{1, 2, 3}});
    std::pair<int, std::string> p{7, "seven"};
    CHECK(round_trip(p) == p);
    std::tuple<int, double, std::string, std::vector<int>> t{1, 2.5, "x", {4}};
    CHECK(round_trip(t) == t);
    CHECK(round_trip(std::optional<std::string>("o")) == std::optional<std::string>("o"));
    CHECK(round_trip(std::optional<int>()) == std::optional<int>());
}

TEST_CASE("user types with serialize, save/load and a free serialize", "[serialization]")
{
    Point p{1, -2, "p"};
    CHECK(round_trip(p) == p);
    Shape s;
    s.points = {p, Point{3, 4, ""}};
    s.attrs  = {{"area", 12.5}};
    CHECK(round_trip(s) == s);
    CHECK(round_trip(Legacy{42}) == Legacy{42});
    CHECK(round_trip(std::vector<Point>{p, p}) == std::vector<Point>{p, p});
}

TEST_CASE("several values in one archive", "[serialization]")
{
    tl::output_archive out;
    out(int(1), std::string("two"), 3.0);
    out & Point{4, 5, "six"};
    tl::input_archive in(out.data(), out.size());
    int         a = 0;
    std::string b;
    double      c = 0;
    Point       d;
    in(a, b, c);
    in & d;
    CHECK(a == 1);
    CHECK(b == "two");
    CHECK(c == 3.0);
    CHECK(d == Point{4, 5, "six"});
    CHECK(in.done());
}

TEST_CASE("every truncation of a payload throws", "[serialization][hostile]")
{
    check_every_truncation_throws(uint64_t(1));
    check_every_truncation_throws(std::string("hello"));
    check_every_truncation_throws(std::vector<std::string>{"a", "bc", ""});
    check_every_truncation_throws(std::map<std::string, int>{{"k", 1}, {"l", 2}});
    check_every_truncation_throws(std::make_tuple(1, std::string("x"), 2.0, std::vector<int>{1, 2}));
    Shape s;
    s.points = {Point{1, 2, "a"}};
    s.attrs  = {{"b", 1.0}};
    check_every_truncation_throws(s);
    check_every_truncation_throws(std::optional<std::string>("opt"));
}

TEST_CASE("hostile counts, bytes and trailing data throw", "[serialization][hostile]")
{
    // a string claiming 4 GiB - 1 bytes, and one claiming more than what follows
    std::vector<char> huge = {char(0xff), char(0xff), char(0xff), char(0xff), 'a'};
    CHECK_THROWS_AS(tl::deserialize_from_bytes<std::string>(huge.data(), huge.size()), tl::exception);
    std::vector<char> longer = {10, 0, 0, 0, 'a', 'b'};
    CHECK_THROWS_AS(tl::deserialize_from_bytes<std::string>(longer.data(), longer.size()), tl::exception);
    // a vector claiming 16M elements with 4 bytes behind it: fails, allocating nothing big
    std::vector<char> many = {0, 0, 0, 1, 1, 0, 0, 0};
    CHECK_THROWS_AS(tl::deserialize_from_bytes<std::vector<uint64_t>>(many.data(), many.size()),
                    tl::exception);
    CHECK_THROWS_AS((tl::deserialize_from_bytes<std::map<int, int>>(many.data(), many.size())),
                    tl::exception);
    // a count above the payload limit
    std::vector<char> over = {0, 0, 0, 2};
    CHECK_THROWS_AS(tl::deserialize_from_bytes<std::vector<char>>(over.data(), over.size()),
                    tl::exception);
    // bool and optional bytes other than 0/1
    std::vector<char> two = {2};
    CHECK_THROWS_AS(tl::deserialize_from_bytes<bool>(two.data(), two.size()), tl::exception);
    CHECK_THROWS_AS(tl::deserialize_from_bytes<std::optional<int>>(two.data(), two.size()),
                    tl::exception);
    // trailing bytes after a complete value
    std::vector<char> trailing = {1, 0, 0, 0, 9};
    CHECK_THROWS_AS(tl::deserialize_from_bytes<int>(trailing.data(), trailing.size()), tl::exception);
    // empty input
    CHECK_THROWS_AS(tl::deserialize_from_bytes<int>(nullptr, 0), tl::exception);
    try {
        tl::deserialize_from_bytes<std::string>(longer.data(), longer.size());
    } catch (const tl::exception& e) {
        CHECK(std::string(e.what()).find("truncated or malformed payload") != std::string::npos);
    }
}

TEST_CASE("random bytes never crash the decoder", "[serialization][hostile]")
{
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    auto     next = [&seed] {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        return seed;
    };
    int decoded = 0;
    for (int i = 0; i < 2000; i++) {
        std::vector<char> junk(next() % 64);
        for (auto& c : junk) c = char(next() & 0xff);
        if (junk.size() > 4 && (i & 1)) junk[3] = junk[2] = 0; // small counts now and then
        try {
            (void)tl::deserialize_from_bytes<Shape>(junk.data(), junk.size());
            decoded++;
        } catch (const tl::exception&) {
        }
        try {
            (void)tl::deserialize_from_bytes<std::tuple<std::string, std::vector<int>>>(junk.data(),
                                                                                      junk.size());
            decoded++;
        } catch (const tl::exception&) {
        }
    }
    CHECK(decoded >= 0);
}
