"""`tools/kaggle_wheels.py check`: the Kaggle wheels bundle resolved offline over Kaggle's image.

A small bundle of stub wheels (metadata only, dependencies among them) stands for the real one;
real pip resolves it in a subprocess, as the tool runs it. No network.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TOOL = REPO / "tools" / "kaggle_wheels.py"
LINUX = "manylinux2014_x86_64"


def stub_wheel(folder: Path, name: str, version: str, requires: tuple[str, ...] = (),
               tag: str = "py3-none-any") -> Path:
    """A wheel with only METADATA, WHEEL and RECORD: enough for pip to resolve it."""
    info = f"{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(req + "\n" if req.startswith("Provides-Extra:") else f"Requires-Dist: {req}\n"
                        for req in requires)
    wheel_file = f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: {tag}\n"
    path = folder / f"{name}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{info}/METADATA", metadata)
        zf.writestr(f"{info}/WHEEL", wheel_file)
        zf.writestr(f"{info}/RECORD", f"{info}/METADATA,,\n{info}/WHEEL,,\n{info}/RECORD,,\n")
    return path


@pytest.fixture
def bundle(tmp_path):
    """app needs liba>=1.0 (which needs libc<2), libb, and, on Python 3.12 only, newdep."""
    folder = tmp_path / "bundle"
    folder.mkdir()
    stub_wheel(folder, "app", "1.0", ("liba>=1.0", "libb", 'newdep; python_version > "3.11"'))
    stub_wheel(folder, "liba", "1.1", ("libc<2",))
    stub_wheel(folder, "libb", "2.0")
    stub_wheel(folder, "libc", "1.5")
    stub_wheel(folder, "newdep", "0.3", tag=f"cp312-cp312-{LINUX}")
    return folder


@pytest.fixture
def image(tmp_path):
    """The image has an old liba (too old: upgraded from the bundle), a libb and a libc that do."""
    path = tmp_path / "image.txt"
    path.write_text("# a comment\nliba==0.9\nlibb==1.0\nlibc==1.2  # kept\nunrelated==3.0\nsomething-unversioned\n")
    return path


def check(bundle, image, *extra):
    done = subprocess.run([sys.executable, str(TOOL), "check", str(bundle), "app==1.0", "--image", str(image), *extra],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def test_complete_bundle_resolves(bundle, image):
    code, result = check(bundle, image)
    assert code == 0 and result["ok"], result
    taken = {p["name"]: p for p in result["from_bundle"]}
    assert set(taken) == {"app", "liba", "newdep"}
    assert taken["liba"]["replaces_image"] == "0.9" and taken["liba"]["version"] == "1.1"
    assert {(p["name"], p["version"]) for p in result["kept_from_image"]} == {("libb", "1.0"), ("libc", "1.2")}
    # the image's libb and libc are kept, so the bundle's copies are not needed there
    assert sorted(result["bundle_unused"]) == ["libb-2.0-py3-none-any.whl", "libc-1.5-py3-none-any.whl"]
    assert result["image_packages"] == 4 and result["image_unversioned"] == 1
    assert result["python_version"] == "3.12" and result["wheels_not_for_target"] == []


def test_missing_wheel_is_named(bundle, image):
    (bundle / "liba-1.1-py3-none-any.whl").unlink()
    code, result = check(bundle, image)
    assert code == 1 and not result["ok"]
    assert result["missing"] == ["liba"]
    assert "No matching distribution found for liba" in result["error"]


def test_image_version_that_does_not_fit_needs_the_bundle(bundle, image):
    # libc 2.5 breaks liba's libc<2, so pip needs the bundle's libc: remove it and the check fails
    image.write_text(image.read_text().replace("libc==1.2", "libc==2.5"))
    code, result = check(bundle, image)
    assert code == 0 and {p["name"]: p.get("replaces_image") for p in result["from_bundle"]}["libc"] == "2.5"
    (bundle / "libc-1.5-py3-none-any.whl").unlink()
    code, result = check(bundle, image)
    assert code == 1 and result["missing"] == ["libc"]


def test_markers_and_tags_are_kaggles_python(bundle, image):
    # newdep is required only above Python 3.11 (the marker is evaluated for the target, not for
    # the Python running pip), and its only wheel is for CPython 3.12
    (bundle / f"newdep-0.3-cp312-cp312-{LINUX}.whl").unlink()
    code, result = check(bundle, image)
    assert code == 1 and result["missing"] == ["newdep"]
    code, result = check(bundle, image, "--python-version", "3.11")
    assert code == 0, result
    stub_wheel(bundle, "newdep", "0.3", tag=f"cp310-cp310-{LINUX}")  # a wheel for the wrong Python
    code, result = check(bundle, image)
    assert code == 1 and result["missing"] == ["newdep"]
    assert result["wheels_not_for_target"] == [f"newdep-0.3-cp310-cp310-{LINUX}.whl"]


def test_extra_of_a_kept_image_package_needs_its_dependencies(bundle, image, tmp_path):
    # app needs web[std]; the image's web 1.0 is kept, and its stub takes the bundle's web's
    # dependencies, so the extra's own dependency (uvi) must come from the bundle
    for wheel in bundle.glob("app-*"):
        wheel.unlink()
    stub_wheel(bundle, "app", "1.0", ("web[std]>=1.0",))
    stub_wheel(bundle, "web", "1.2", ("Provides-Extra: std", 'uvi; extra == "std"'))
    image.write_text(image.read_text() + "web==1.0\n")
    code, result = check(bundle, image)
    assert code == 1 and result["missing"] == ["uvi"], result
    stub_wheel(bundle, "uvi", "0.1")
    code, result = check(bundle, image)
    assert code == 0, result
    assert {p["name"] for p in result["kept_from_image"]} >= {"web"}
    assert {p["name"] for p in result["from_bundle"]} == {"app", "uvi"}


def test_kaggle_image_list_is_readable():
    sys.path.insert(0, str(TOOL.parent))
    try:
        import kaggle_wheels
    finally:
        sys.path.remove(str(TOOL.parent))
    pinned, bare = kaggle_wheels.read_image_packages(kaggle_wheels.IMAGE_PACKAGES)
    assert pinned["torch"][1].startswith("2.10.0") and len(pinned) > 500
    assert "google-cloud-bigquery-storage" not in pinned  # Kaggle's Dockerfile removes it
    text = kaggle_wheels.IMAGE_PACKAGES.read_text()
    assert "Kaggle/docker-python" in text and "googlecolab/backend-info" in text  # where it was taken
