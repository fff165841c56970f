"""The SDK as a package: `pip install ./sdks/python` (the stdlib build backend,
no network) into a fresh virtual environment, next to a package that owns the
name `fivetran_connector_sdk` as Fivetran's distribution does."""

import ast
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from fakehost import SDK_DIR, FakeHost, fixture  # noqa: E402

sys.path.insert(0, os.path.join(SDK_DIR, "build_support"))
import stdlib_backend  # noqa: E402


def venv_python(venv):
    return os.path.join(venv, "bin", "python")


def run(argv, **kw):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300, **kw)
    if p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s" % (" ".join(argv), p.returncode, p.stdout.decode()))
    return p.stdout.decode()


def site_packages(python):
    return run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip()


CLEAN = {"PYTHONPATH": None, "PYTHONDONTWRITEBYTECODE": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
         "PIP_ROOT_USER_ACTION": "ignore"}


def clean_env():
    env = dict(os.environ)
    for k, v in CLEAN.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


class BackendTest(unittest.TestCase):
    def test_metadata_comes_from_pyproject_and_matches_the_package_version(self):
        meta = stdlib_backend.project()
        self.assertEqual((meta["name"], meta["requires-python"], meta["dependencies"]),
                         ("connector-host-sdk", ">=3.9", []))
        self.assertIn("Typing :: Typed", meta["classifiers"])
        with open(os.path.join(SDK_DIR, "connector_host_sdk", "__init__.py")) as f:
            tree = ast.parse(f.read())
        version = [n.value.value for n in tree.body if isinstance(n, ast.Assign)
                   and getattr(n.targets[0], "id", None) == "__version__"][0]
        self.assertEqual(meta["version"], version)

    @unittest.skipIf(sys.version_info < (3, 11), "tomllib is Python 3.11+")
    def test_the_small_toml_reader_agrees_with_tomllib(self):
        import tomllib
        with open(os.path.join(SDK_DIR, "pyproject.toml")) as f:
            text = f.read()
        self.assertEqual(stdlib_backend.parse_toml(text), tomllib.loads(text))

    def test_the_wheel_has_no_top_level_fivetran_connector_sdk(self):
        with tempfile.TemporaryDirectory() as tmp:
            name = stdlib_backend.build_wheel(tmp)
            self.assertEqual(name, "connector_host_sdk-0.2.0-py3-none-any.whl")
            with zipfile.ZipFile(os.path.join(tmp, name)) as z:
                names = z.namelist()
                again = stdlib_backend.build_wheel(tempfile.mkdtemp(dir=tmp))
                with open(os.path.join(tmp, name), "rb") as a:
                    first = a.read()
            self.assertEqual(sorted({n.split("/")[0] for n in names}),
                             ["connector_host_sdk", "connector_host_sdk-0.2.0.dist-info", "connector_host_sdk.pth"])
            self.assertIn("connector_host_sdk/py.typed", names)
            self.assertIn("connector_host_sdk/fivetran_import_path/fivetran_connector_sdk/__init__.py", names)
            self.assertFalse([n for n in names if "__pycache__" in n])
            with zipfile.ZipFile(os.path.join(tmp, name)) as z:
                record = z.read("connector_host_sdk-0.2.0.dist-info/RECORD").decode().split()
            self.assertEqual(sorted(line.split(",")[0] for line in record), sorted(names))
            again_path = [os.path.join(r, f) for r, _, fs in os.walk(tmp) for f in fs if f == again and r != tmp][0]
            with open(again_path, "rb") as b:
                self.assertEqual(first, b.read())  # reproducible

    def test_sdist(self):
        with tempfile.TemporaryDirectory() as tmp:
            name = stdlib_backend.build_sdist(tmp)
            import tarfile
            with tarfile.open(os.path.join(tmp, name)) as t:
                names = t.getnames()
            self.assertIn("connector_host_sdk-0.2.0/pyproject.toml", names)
            self.assertIn("connector_host_sdk-0.2.0/PKG-INFO", names)
            self.assertIn("connector_host_sdk-0.2.0/build_support/stdlib_backend.py", names)


def _pip_and_venv():
    try:
        import ensurepip  # noqa: F401  (Debian's python3 without python3-venv lacks it)
        import pip  # noqa: F401
        import venv  # noqa: F401
    except ImportError as e:
        return "pip/venv not available (%s)" % e
    return None


@unittest.skipIf(_pip_and_venv(), _pip_and_venv() or "")
class InstalledTest(unittest.TestCase):
    """One venv for the class: pip install --no-index ./sdks/python, then a stand-in for Fivetran's package."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sdk-venv-")
        cls.venv = os.path.join(cls.tmp, "venv")
        # Without pip of its own (ensurepip takes long); this interpreter's pip installs into its
        # site-packages, where the .pth file is read at start-up as in any install.
        run([sys.executable, "-m", "venv", "--without-pip", cls.venv])
        cls.python = venv_python(cls.venv)
        cls.site = site_packages(cls.python)
        run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--target", cls.site, SDK_DIR],
            env=clean_env())

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def py(self, code):
        return run([self.python, "-c", code], env=clean_env(), cwd=self.tmp).strip()

    def fivetran_stand_in(self):
        """A package named fivetran_connector_sdk in site-packages, as `pip install fivetran-connector-sdk` leaves."""
        folder = os.path.join(self.site, "fivetran_connector_sdk")
        os.makedirs(folder)
        self.addCleanup(shutil.rmtree, folder, True)
        with open(os.path.join(folder, "__init__.py"), "w") as f:
            f.write("WHO = 'fivetran'\n")

    def test_the_installed_sdk_serves_fivetran_imports(self):
        self.assertEqual(self.py("import fivetran_connector_sdk as f, connector_host_sdk as c; "
                                 "print(f.__name__, c.__file__.startswith(%r))" % self.site),
                         "connector_host_sdk.fivetran True")
        self.assertEqual(self.py("from fivetran_connector_sdk import ByteStream, FileUpload, Logging, Operations, "
                                 "ConfigurationForm, Test, form_field, Connector; print('ok')"), "ok")

    def test_fivetran_s_package_wins_for_plain_imports_and_ours_under_the_host(self):
        self.fivetran_stand_in()
        self.assertEqual(self.py("import fivetran_connector_sdk as f; print(f.WHO)"), "fivetran")
        h = FakeHost(fixture("fivetran30"), python=self.python, env=CLEAN)
        self.addCleanup(h.kill)
        self.assertEqual(h.initialize()["capabilities"], {"test": True, "configurationForm": True, "selectTables": False, "operationSites": True})
        self.assertEqual(h.update({"mode": "pid"})["result"], {})
        self.assertEqual(h.ops[0]["table"], "docs")
        self.assertEqual(h.wait(), 0)


if __name__ == "__main__":
    unittest.main()
