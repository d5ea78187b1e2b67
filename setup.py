"""setup.py — builds the einc Python package with the project's CMake.

`pip install .` (pyproject.toml) calls this: the build step configures the
repository with -DEINC_PYTHON=ON -DEINC_BUILD_TESTS=OFF for the interpreter
running pip, builds the `einc_python` target (the module einc._einc and the
libraries it links), and puts the module into the wheel next to
python/einc/*.py. Environment knobs: EINC_JOBS (parallel build jobs, default
the CPU count), EINC_CMAKE_ARGS (extra CMake arguments, e.g.
"-DEINC_WITH_CUDA=OFF"), EINC_PIP_BUILD_DIR (CMake build directory, default
build-pip/ in the source tree, reused by later installs).
"""
import os
import pathlib
import shlex
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = pathlib.Path(__file__).resolve().parent


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = pathlib.Path(os.environ.get("EINC_PIP_BUILD_DIR", ROOT / "build-pip")).resolve()
        jobs = os.environ.get("EINC_JOBS", str(os.cpu_count() or 1))
        configure = [
            "cmake", "-S", str(ROOT), "-B", str(build_dir),
            "-DCMAKE_BUILD_TYPE=Release", "-DEINC_PYTHON=ON", "-DEINC_BUILD_TESTS=OFF",
            f"-DPython3_EXECUTABLE={sys.executable}",
        ]
        if shutil.which("ninja"):
            configure += ["-G", "Ninja"]
        configure += shlex.split(os.environ.get("EINC_CMAKE_ARGS", ""))
        if (build_dir / "CMakeCache.txt").exists() and "-G" in configure:
            configure.remove("-G")
            configure.remove("Ninja")  # the generator of an existing build directory stays
        subprocess.run(configure, check=True)
        subprocess.run(["cmake", "--build", str(build_dir), "--target", "einc_python", "-j", jobs], check=True)
        built = sorted((build_dir / "python" / "einc").glob("_einc*" + (".pyd" if os.name == "nt" else ".so")))
        if not built:
            raise RuntimeError(f"the CMake build produced no einc._einc module in {build_dir}/python/einc")
        target = pathlib.Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built[-1], target)


setup(
    packages=["einc"],
    package_dir={"": "python"},
    package_data={"einc": ["*.pyi", "py.typed"]},
    ext_modules=[CMakeExtension("einc._einc")],
    cmdclass={"build_ext": CMakeBuild},
    zip_safe=False,
)
