# flock_build_backend.py -- the PEP 517 build backend of pyproject.toml: `pip
# install .` (or `pip wheel .`) runs the project's own CMake build (no Python
# build dependency: cmake, a C/C++ compiler, json-c, python3-dev and
# pybind11-dev from Debian) and packs a wheel of the mochi packages, the
# pybind11 modules and the three shared libraries they load
# (mochi_flock.libs/, found through the modules' RPATH $ORIGIN/mochi_flock.libs).
#
# config_settings: "cmake-args" (extra -D... arguments, space-separated),
# "jobs" (parallel build jobs, default 2).
import base64
import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile

NAME = "mochi_flock"
VERSION = "0.7.0"
LIBS_DIR = NAME + ".libs"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUMMARY = "Flock group membership: mochi.flock and a mochi.margo engine over its own runtime"


def _tag():
    impl = f"cp{sys.version_info.major}{sys.version_info.minor}"
    plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return impl, impl, plat


def _soname(path):
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if "(SONAME)" in line and "[" in line:
            return line.split("[", 1)[1].split("]", 1)[0]
    return None


def _run(cmd):
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def _build(tmp, config_settings):
    cfg = config_settings or {}
    build, stage = os.path.join(tmp, "build"), os.path.join(tmp, "stage")
    _run(["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release",
          "-DFLOCK_ENABLE_TESTS=OFF", "-DFLOCK_ENABLE_BENCH=OFF", "-DFLOCK_ENABLE_EXAMPLES=OFF",
          "-DFLOCK_ENABLE_FUZZ=OFF", "-DFLOCK_ENABLE_MPI=OFF", "-DFLOCK_ENABLE_PYTHON=ON",
          f"-DPython3_EXECUTABLE={sys.executable}",
          f"-DFLOCK_PYTHON_INSTALL_RPATH=$ORIGIN/{LIBS_DIR}",
          *str(cfg.get("cmake-args", "")).split()])
    _run(["cmake", "--build", build, "-j", str(cfg.get("jobs", 2)), "--target",
          "_pymargo", "pyflock_common", "pyflock_client", "pyflock_server"])
    _run(["cmake", "--install", build, "--prefix", stage, "--component", "python"])
    return stage, build


def _files(stage, build):
    """(archive name, source path) of every file of the wheel."""
    site = os.path.join(stage, "lib", f"python{sys.version_info.major}.{sys.version_info.minor}",
                        "site-packages")
    if not os.path.isdir(site):
        raise RuntimeError("the CMake build installed no Python modules: are python3-dev and "
                           "pybind11-dev installed? (see the cmake output above)")
    out = []
    for d, _, names in os.walk(site):
        for n in sorted(names):
            if n.endswith(".pyc"):
                continue
            p = os.path.join(d, n)
            out.append((os.path.relpath(p, site), p))
    seen = set()
    for d, _, names in os.walk(build):
        for n in sorted(names):
            p = os.path.join(d, n)
            if n.startswith("lib") and ".so" in n and not os.path.islink(p):
                so = _soname(p)
                if so and so not in seen and so.startswith(("libfrt", "libflock-")):
                    seen.add(so)
                    out.append((f"{LIBS_DIR}/{so}", p))
    return out


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _metadata():
    return (f"Metadata-Version: 2.1\nName: mochi-flock\nVersion: {VERSION}\n"
            f"Summary: {SUMMARY}\nRequires-Python: >=3.10\n")


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    info = f"{NAME}-{VERSION}.dist-info"
    os.makedirs(os.path.join(metadata_directory, info), exist_ok=True)
    with open(os.path.join(metadata_directory, info, "METADATA"), "w") as f:
        f.write(_metadata())
    return info


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    tag = "-".join(_tag())
    wheel_name = f"{NAME}-{VERSION}-{tag}.whl"
    info = f"{NAME}-{VERSION}.dist-info"
    with tempfile.TemporaryDirectory(prefix="flock-wheel-") as tmp:
        stage, build = _build(tmp, config_settings)
        records = []
        path = os.path.join(wheel_directory, wheel_name)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for arc, src in _files(stage, build):
                with open(src, "rb") as f:
                    data = f.read()
                zi = zipfile.ZipInfo(arc)
                zi.external_attr = (os.stat(src).st_mode & 0o777 | 0o100000) << 16
                zi.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(zi, data)
                records.append(_record_line(arc, data))
            extra = {
                f"{info}/METADATA": _metadata(),
                f"{info}/WHEEL": (f"Wheel-Version: 1.0\nGenerator: flock_build_backend\n"
                                  f"Root-Is-Purelib: false\nTag: {tag}\n"),
            }
            for arc, text in extra.items():
                z.writestr(arc, text)
                records.append(_record_line(arc, text.encode()))
            records.append(f"{info}/RECORD,,")
            z.writestr(f"{info}/RECORD", "\n".join(records) + "\n")
    return wheel_name


def build_sdist(sdist_directory, config_settings=None):
    raise NotImplementedError("no sdist: build a wheel from the source tree (pip install .)")
