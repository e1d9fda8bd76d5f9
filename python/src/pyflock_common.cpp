/*
 * pyflock_common.cpp -- the native module pyflock_common: Exception (the
 * FlockException), Member, Metadata, GroupView and its MembersProxy and
 * MetadataProxy (FACES-SPEC 2.2 to 2.5, 2.9).
 *
 * Owns: the Python types over flock_group_view_t (a ViewBox shared by the
 * view and its proxies). May call: the view helpers and JSON functions of
 * include/flock/flock-group-view.h (libflock-client). Nothing here blocks
 * except GroupView.lock(), which releases the GIL while it waits.
 */
#include "pyflock.hpp"

#include <pybind11/eval.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>

using namespace pyflock;

namespace
{

using ViewPtr = std::shared_ptr<ViewBox>;

struct Member {
    std::string address;
    uint16_t provider_id;
};

struct Metadata {
    std::string key;
    std::string value;
};

struct MembersProxy {
    ViewPtr box;
};

struct MetadataProxy {
    ViewPtr box;
};

/* Iterators: n is taken at the start; an index that has gone meanwhile
 * raises IndexError (the view shrank). */
struct MembersIter {
    ViewPtr box;
    uint64_t i, n;
};

struct MetadataIter {
    ViewPtr box;
    uint64_t i, n;
};

/* The compact JSON text of a view (FLOCK-SPEC 5.4). */
std::string view_to_string(const flock_group_view_t* v)
{
    std::string out;
    check(flock_group_view_serialize(
        v,
        [](void* ctx, const char* s, size_t n) {
            static_cast<std::string*>(ctx)->append(s, n);
        },
        &out));
    return out;
}

Member member_at(const ViewBox& b, uint64_t i)
{
    if (i >= b.view.members.size) throw py::index_error("member index out of range");
    const flock_member_t& m = b.view.members.data[i];
    return Member{m.address, m.provider_id};
}

Metadata metadata_at(const ViewBox& b, uint64_t i)
{
    if (i >= b.view.metadata.size) throw py::index_error("metadata index out of range");
    const flock_metadata_t& m = b.view.metadata.data[i];
    return Metadata{m.key, m.value};
}

void remove_member_at(ViewBox& b, uint64_t i)
{
    flock_member_t* m = flock_group_view_member_at(&b.view, (size_t)i);
    if (i > SIZE_MAX || !m || !flock_group_view_remove_member(&b.view, m))
        throw FlockError(FLOCK_ERR_NO_MEMBER);
}

void add_member(ViewBox& b, const std::string& address, uint16_t pid)
{
    if (!flock_group_view_add_member(&b.view, address.c_str(), pid))
        throw FlockError(FLOCK_ERR_ALLOCATION);
}

ViewPtr view_from_string(const std::string& content)
{
    auto box = std::make_shared<ViewBox>();
    check(flock_group_view_from_string(content.data(), content.size(), &box->view));
    return box;
}

void view_lock(ViewBox& b)
{
    if (b.locked.load() && b.locker.load() == std::this_thread::get_id())
        throw py::value_error(
            "GroupView.lock(): this thread already holds the view's lock "
            "(the lock is not recursive)");
    {
        GilRelease nogil;
        FLOCK_GROUP_VIEW_LOCK(&b.view);
    }
    b.locker.store(std::this_thread::get_id());
    b.locked.store(true);
}

void view_unlock(ViewBox& b)
{
    if (!b.locked.load())
        throw py::value_error("GroupView.unlock(): the view is not locked");
    b.locked.store(false);
    b.locker.store(std::thread::id());
    FLOCK_GROUP_VIEW_UNLOCK(&b.view);
}

void bind_member_types(py::module_& m)
{
    py::class_<Member>(m, "Member")
        .def(py::init([](std::string address, uint16_t provider_id) {
                 return Member{std::move(address), provider_id};
             }),
             py::arg("address"), py::arg("provider_id"))
        .def_readonly("address", &Member::address)
        .def_readonly("provider_id", &Member::provider_id);

    py::class_<Metadata>(m, "Metadata")
        .def_readonly("key", &Metadata::key)
        .def_readonly("value", &Metadata::value);
}

void bind_members_proxy(py::module_& m)
{
    py::class_<MembersIter>(m, "MembersIterator")
        .def("__iter__", [](MembersIter& it) -> MembersIter& { return it; })
        .def("__next__", [](MembersIter& it) {
            if (it.i >= it.n) throw py::stop_iteration();
            return member_at(*it.box, it.i++);
        });

    py::class_<MembersProxy>(m, "MembersProxy")
        .def("__len__", [](const MembersProxy& p) { return p.box->view.members.size; })
        .def_property_readonly(
            "count", [](const MembersProxy& p) { return p.box->view.members.size; })
        .def(
            "add",
            [](MembersProxy& p, const std::string& address, uint16_t pid) {
                add_member(*p.box, address, pid);
            },
            py::arg("address"), py::arg("provider_id"))
        .def(
            "remove",
            [](MembersProxy& p, uint64_t index) { remove_member_at(*p.box, index); },
            py::arg("index"))
        .def(
            "remove",
            [](MembersProxy& p, const std::string& address, uint16_t pid) {
                flock_member_t* mb =
                    flock_group_view_find_member(&p.box->view, address.c_str(), pid);
                if (!mb || !flock_group_view_remove_member(&p.box->view, mb))
                    throw FlockError(FLOCK_ERR_NO_MEMBER);
            },
            py::arg("address"), py::arg("provider_id"))
        .def(
            "exists",
            [](const MembersProxy& p, const std::string& address, uint16_t pid) {
                return flock_group_view_members_binary_search(&p.box->view,
                                                              address.c_str(), pid) >= 0;
            },
            py::arg("address"), py::arg("provider_id"))
        .def(
            "__getitem__",
            [](const MembersProxy& p, uint64_t index) {
                return member_at(*p.box, index);
            },
            py::arg("index"))
        .def(
            "__delitem__",
            [](MembersProxy& p, uint64_t index) { remove_member_at(*p.box, index); },
            py::arg("index"))
        .def("__iter__",
             [](const MembersProxy& p) {
                 return MembersIter{p.box, 0, p.box->view.members.size};
             })
        .def("__contains__", [](const MembersProxy& p, const py::tuple& t) {
            if (t.size() != 2)
                throw py::value_error(
                    "expected a tuple (address, provider_id) of length 2");
            std::string address;
            uint16_t pid;
            try {
                address = t[0].cast<std::string>();
                pid = t[1].cast<uint16_t>();
            } catch (const py::cast_error&) {
                throw std::runtime_error(
                    "expected a tuple (address: str, provider_id: int in "
                    "0..65535)");
            }
            return flock_group_view_members_binary_search(&p.box->view, address.c_str(),
                                                          pid) >= 0;
        });
}

void bind_metadata_proxy(py::module_& m)
{
    py::class_<MetadataIter>(m, "MetadataIterator")
        .def("__iter__", [](MetadataIter& it) -> MetadataIter& { return it; })
        .def("__next__", [](MetadataIter& it) {
            if (it.i >= it.n) throw py::stop_iteration();
            return metadata_at(*it.box, it.i++);
        });

    py::class_<MetadataProxy>(m, "MetadataProxy")
        .def("__len__", [](const MetadataProxy& p) { return p.box->view.metadata.size; })
        .def_property_readonly(
            "count", [](const MetadataProxy& p) { return p.box->view.metadata.size; })
        .def(
            "add",
            [](MetadataProxy& p, const std::string& key, const std::string& value) {
                if (!flock_group_view_add_metadata(&p.box->view, key.c_str(),
                                                   value.c_str()))
                    throw FlockError(FLOCK_ERR_ALLOCATION);
            },
            py::arg("key"), py::arg("value"))
        .def(
            "remove",
            [](MetadataProxy& p, const std::string& key) {
                flock_group_view_remove_metadata(&p.box->view, key.c_str());
            },
            py::arg("key"))
        .def(
            "__delitem__",
            [](MetadataProxy& p, const std::string& key) {
                flock_group_view_remove_metadata(&p.box->view, key.c_str());
            },
            py::arg("key"))
        .def(
            "__getitem__",
            [](const MetadataProxy& p,
               const std::string& key) -> std::optional<std::string> {
                const char* v = flock_group_view_find_metadata(&p.box->view, key.c_str());
                if (!v) return std::nullopt;
                return std::string(v);
            },
            py::arg("key"))
        .def(
            "__getitem__",
            [](const MetadataProxy& p, uint64_t index) {
                return metadata_at(*p.box, index);
            },
            py::arg("index"))
        .def("__iter__",
             [](const MetadataProxy& p) {
                 return MetadataIter{p.box, 0, p.box->view.metadata.size};
             })
        .def("__contains__", [](const MetadataProxy& p, const std::string& key) {
            return flock_group_view_find_metadata(&p.box->view, key.c_str()) != nullptr;
        });
}

void bind_group_view(py::module_& m)
{
    py::class_<ViewBox, ViewPtr>(m, "GroupView")
        .def(py::init([]() { return std::make_shared<ViewBox>(); }))
        .def_property_readonly(
            "digest", [](const ViewBox& b) { return flock_group_view_digest(&b.view); })
        .def("_members", [](const ViewPtr& b) { return MembersProxy{b}; })
        .def("_metadata", [](const ViewPtr& b) { return MetadataProxy{b}; })
        .def("clear", [](ViewBox& b) { flock_group_view_clear(&b.view); })
        .def("lock", &view_lock)
        .def("unlock", &view_unlock)
        .def("__str__", [](const ViewBox& b) { return view_to_string(&b.view); })
        .def("copy",
             [](const ViewBox& b) {
                 auto c = std::make_shared<ViewBox>();
                 if (!flock_group_view_copy(&b.view, &c->view))
                     throw FlockError(FLOCK_ERR_ALLOCATION);
                 return c;
             })
        .def(
            "serialize_to_file",
            [](const ViewBox& b, const std::string& filename) {
                /* as upstream: the text is parsed back first, so a view with
                 * no members is refused (code 6) and never written */
                view_from_string(view_to_string(&b.view));
                check(flock_group_view_serialize_to_file(&b.view, filename.c_str()));
            },
            py::arg("filename"))
        .def_static(
            "from_file",
            [](const std::string& filename) {
                auto box = std::make_shared<ViewBox>();
                check(flock_group_view_from_file(filename.c_str(), &box->view));
                return box;
            },
            py::arg("filename"))
        .def_static("from_string", &view_from_string, py::arg("content"));
}

const char* const EXCEPTION_SOURCE = R"PY(
class Exception(RuntimeError):
    """A Flock error: str(e) is the message, e.code the flock_return_t value."""

    def __init__(self, message, code):
        super().__init__(message)
        self._code = int(code)

    @property
    def code(self):
        return self._code
)PY";

} // namespace

PYBIND11_MODULE(pyflock_common, m)
{
    m.doc() = "Flock group views, members and metadata (native part of mochi.flock)";
    py::dict ns;
    ns["__builtins__"] = py::module_::import("builtins");
    ns["__name__"] = "pyflock_common";
    py::exec(EXCEPTION_SOURCE, ns);
    py::object exc = ns["Exception"];
    m.add_object("Exception", exc);
    register_flock_exception(exc);

    bind_member_types(m);
    bind_members_proxy(m);
    bind_metadata_proxy(m);
    bind_group_view(m);
}
