"""Packages as zips and folders: metadata files, and trap 9 (zip hazards) refused up front."""

from __future__ import annotations

import os
import stat
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from preuve.connectors.scorm import ScormError, UnsafePackageError, read_package
from preuve.connectors.scorm.constants import MAX_ZIP_MEMBERS
from tests.connectors.scorm.builders import (
    LOM_NO_NAMESPACE,
    manifest_12,
    package_12,
    write_zip,
)

META = "<adlcp:location>metadata.xml</adlcp:location>"


def test_zip_package_with_external_metadata_without_namespace(tmp_path: Path) -> None:
    path = write_zip(
        tmp_path / "cours.zip",
        {"imsmanifest.xml": manifest_12(metadata=META), "metadata.xml": LOM_NO_NAMESPACE},
    )
    package = read_package(path)
    assert package.source == "cours.zip"
    assert package.course.description == "Description externe du cours."
    assert package.course.duration_seconds == 7200  # CMITimespan in a 1.2 LOM
    assert package.member_count == 2


def test_folder_package(tmp_path: Path) -> None:
    folder = tmp_path / "cours"
    folder.mkdir()
    (folder / "imsmanifest.xml").write_text(manifest_12(metadata=META), encoding="utf-8")
    (folder / "metadata.xml").write_text(LOM_NO_NAMESPACE, encoding="utf-8")
    package = read_package(folder)
    assert package.course.title == "Sécurité au travail"
    assert package.course.description == "Description externe du cours."


def test_missing_or_broken_metadata_file_is_a_warning(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "c.zip", {"imsmanifest.xml": manifest_12(metadata=META)})
    course = read_package(path).course
    assert any("metadata.xml" in w for w in course.warnings)
    path = write_zip(
        tmp_path / "d.zip",
        {"imsmanifest.xml": manifest_12(metadata=META), "metadata.xml": "<lom><oops></lom>"},
    )
    assert any("metadata.xml" in w for w in read_package(path).course.warnings)
    with pytest.raises(ScormError):
        read_package(path, strict=True)


def test_metadata_file_with_external_entity_refuses_the_package(tmp_path: Path) -> None:
    evil = '<!DOCTYPE lom [<!ENTITY x SYSTEM "file:///etc/passwd">]><lom>&x;</lom>'
    path = write_zip(
        tmp_path / "e.zip", {"imsmanifest.xml": manifest_12(metadata=META), "metadata.xml": evil}
    )
    with pytest.raises(UnsafePackageError):
        read_package(path)


@pytest.mark.parametrize("name", ["../evil.html", "/etc/evil", "C:/evil", "a/../../evil"])
def test_trap9_path_traversal_refused(tmp_path: Path, name: str) -> None:
    path = write_zip(tmp_path / "t.zip", {"imsmanifest.xml": manifest_12(), name: "x"})
    with pytest.raises(UnsafePackageError) as caught:
        read_package(path)
    assert caught.value.code == "traversal"
    assert caught.value.where == name


def test_trap9_backslash_traversal_refused(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "t.zip", {"imsmanifest.xml": manifest_12(), "..\\evil": "x"})
    with pytest.raises(UnsafePackageError):
        read_package(path)


def test_trap9_backslash_names_are_separators(tmp_path: Path) -> None:
    path = write_zip(
        tmp_path / "b.zip",
        {
            "imsmanifest.xml": manifest_12(metadata=META),
            "sub\\x.html": "x",
            "metadata.xml": LOM_NO_NAMESPACE,
        },
    )
    assert read_package(path).course.description == "Description externe du cours."


def test_trap9_symlink_member_refused(tmp_path: Path) -> None:
    path = tmp_path / "l.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("imsmanifest.xml", manifest_12())
        link = zipfile.ZipInfo("link.html")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(UnsafePackageError) as caught:
        read_package(path)
    assert caught.value.code == "symlink"


def test_trap9_symlinked_metadata_in_folder_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secret.xml"
    outside.write_text(LOM_NO_NAMESPACE, encoding="utf-8")
    folder = tmp_path / "pkg"
    folder.mkdir()
    (folder / "imsmanifest.xml").write_text(manifest_12(metadata=META), encoding="utf-8")
    os.symlink(outside, folder / "metadata.xml")
    with pytest.raises(UnsafePackageError) as caught:
        read_package(folder)
    assert caught.value.code == "symlink"


def test_trap9_too_many_members_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from preuve.connectors.scorm import package as package_module

    assert MAX_ZIP_MEMBERS >= 10_000  # real exports (3DVista) hold ~10k files
    # A low limit keeps the test fast; the check is the same whatever the number.
    monkeypatch.setattr(package_module, "MAX_ZIP_MEMBERS", 50)
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("imsmanifest.xml", manifest_12())
        for n in range(50):
            archive.writestr(f"f{n}", b"")
    with pytest.raises(UnsafePackageError) as caught:
        read_package(path)
    assert caught.value.code == "too_many_members"
    assert "51" in str(caught.value)
    # The directory itself is checked too (an end record can under-announce).
    with zipfile.ZipFile(path) as archive, pytest.raises(UnsafePackageError) as caught:
        package_module.vet_zip(archive, "many.zip")
    assert caught.value.code == "too_many_members"


def test_trap9_zip_bomb_refused_without_inflating(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    block = b"\0" * (1024 * 1024)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("imsmanifest.xml", manifest_12())
        with archive.open("bomb.bin", "w", force_zip64=True) as member:
            for _ in range(64):  # 64 MB of zeros -> ~64 KB compressed
                member.write(block)
    assert path.stat().st_size < 1_000_000
    tracemalloc.start()
    try:
        with pytest.raises(UnsafePackageError) as caught:
            read_package(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.code == "zip_bomb"
    assert peak < 5_000_000, "refused from the directory, nothing inflated"


def test_trap9_declared_total_size_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from preuve.connectors.scorm import package as package_module

    monkeypatch.setattr(package_module, "MAX_TOTAL_UNCOMPRESSED", 1000)
    path = write_zip(tmp_path / "big.zip", {"imsmanifest.xml": manifest_12(), "a.bin": "x" * 2000})
    with pytest.raises(UnsafePackageError) as caught:
        read_package(path)
    assert caught.value.code == "too_large"


def test_trap9_nested_top_folder_is_reported(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "n.zip", {"cours/imsmanifest.xml": manifest_12()})
    with pytest.raises(ScormError) as caught:
        read_package(path)
    assert caught.value.code == "nested_manifest"
    assert "cours" in str(caught.value)


def test_trap9_case_only_duplicate_manifests_refused(tmp_path: Path) -> None:
    path = write_zip(
        tmp_path / "c.zip", {"imsmanifest.xml": manifest_12(), "IMSManifest.xml": manifest_12()}
    )
    with pytest.raises(ScormError) as caught:
        read_package(path)
    assert caught.value.code == "ambiguous_manifest"


def test_trap9_cp437_member_names(tmp_path: Path) -> None:
    path = tmp_path / "cp.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("imsmanifest.xml", manifest_12())
        archive.writestr("rXsumX.html", "x")
    # Same length, no UTF-8 flag: the name is CP437 bytes, as old Windows zippers write.
    path.write_bytes(path.read_bytes().replace(b"rXsumX", b"r\x82sum\x82"))
    with zipfile.ZipFile(path) as archive:
        assert "résumé.html" in archive.namelist()
    assert read_package(path).course.title == "Sécurité au travail"


@pytest.mark.parametrize(
    ("members", "code"),
    [
        ({"cmi5.xml": "<courseStructure/>"}, "not_scorm"),
        ({"tincan.xml": "<tincan/>"}, "not_scorm"),
        ({"course.crs": "[Course]"}, "not_scorm"),
        ({"index.html": "x"}, "no_manifest"),
    ],
)
def test_other_formats_named(tmp_path: Path, members: dict[str, str], code: str) -> None:
    path = write_zip(tmp_path / "o.zip", members)
    with pytest.raises(ScormError) as caught:
        read_package(path)
    assert caught.value.code == code


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "fake.zip"
    path.write_bytes(b"not a zip")
    with pytest.raises(ScormError) as caught:
        read_package(path)
    assert caught.value.code == "bad_zip"
    assert "fake.zip" in str(caught.value)


def test_package_helper_builds_a_readable_zip(tmp_path: Path) -> None:
    assert read_package(package_12(tmp_path / "p.zip")).course.version == "1.2"


def test_trap9_member_count_read_from_the_end_record_first(tmp_path: Path) -> None:
    from preuve.connectors.scorm.package import declared_member_count

    path = write_zip(tmp_path / "z.zip", {"imsmanifest.xml": manifest_12(), "a": "1", "b": "2"})
    assert declared_member_count(path) == 3
    # A forged end record announcing a huge directory is refused before ZipFile reads it.
    data = bytearray(path.read_bytes())
    at = data.rfind(b"PK\x05\x06")
    data[at + 8 : at + 12] = b"\xfe\xff\xfe\xff"
    forged = tmp_path / "forged.zip"
    forged.write_bytes(bytes(data))
    with pytest.raises(UnsafePackageError) as caught:
        read_package(forged)
    assert caught.value.code == "too_many_members"
    with zipfile.ZipFile(tmp_path / "z64.zip", "w", allowZip64=True) as archive:
        archive.writestr("imsmanifest.xml", manifest_12())
    assert declared_member_count(tmp_path / "z64.zip") == 1


@pytest.mark.parametrize("damage", ["crc", "deflate", "method"])
def test_damaged_members_are_this_files_error_only(tmp_path: Path, damage: str) -> None:
    # Truncated uploads and broken zippers: zipfile raises BadZipFile, zlib.error or
    # NotImplementedError while inflating; each must become a located ScormError.
    expected = {"crc": zipfile.BadZipFile, "deflate": zlib.error, "method": NotImplementedError}
    path = tmp_path / "damaged.zip"
    compression = zipfile.ZIP_STORED if damage == "crc" else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        archive.writestr("imsmanifest.xml", manifest_12())
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("imsmanifest.xml")
    body = info.header_offset + 30 + len(info.filename)  # local header, then the data
    if damage == "method":
        data[info.header_offset + 8] = 99  # compression method 99 (AES), in the local header
        at = data.rfind(b"PK\x01\x02")
        data[at + 10] = 99  # and in the central directory
    else:
        for offset in range(body + 10, body + 40):
            data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ScormError) as caught:
        read_package(path)
    assert not isinstance(caught.value, UnsafePackageError)
    assert caught.value.code == "bad_zip"
    assert caught.value.where == "imsmanifest.xml"
    assert isinstance(caught.value.__cause__, expected[damage])
    assert str(caught.value).startswith("damaged.zip")
