"""The official Peppol validation artefacts: pinned, downloaded, verified, stored (no registry).

The product validates with three artefacts, pinned here by release, download address and
SHA-256. :func:`install` fetches them (``make run``/``make test`` set-up and the settings
button *Download the official rules* call it), checks every checksum and only then moves them
into ``<data_dir>/ar_peppol_rules/<RELEASE>/`` (``rules/`` and ``ubl-2.1/xsdrt/``), which
every company without rules of its own uses (:func:`default_location`).

Offline (CI, air-gapped servers) the environment variable ``AR_PEPPOL_RULES`` names a folder
laid out the same way (``rules/CEN-EN16931-UBL.xslt``, ``rules/PEPPOL-EN16931-UBL.xslt``,
``ubl-2.1/xsdrt/``); it then takes precedence and nothing is downloaded.

How each checksum was obtained (2026-12-02):

- CEN EN 16931 UBL 1.3.16: ``ubl/xslt/EN16931-UBL-validation.xslt`` at the tag
  ``validation-1.3.16`` (commit b6c9e06a) of ConnectingEurope/eInvoicing-EN16931, the official
  CEN/TC 434 repository. Verified: computed from the file in a snapshot of that repository at
  that tag, and byte-identical to the offline mirror's ``CEN-EN16931-UBL.xslt``.
- OpenPeppol BIS Billing 3.0.21: OpenPeppol publishes the rules as Schematron
  (``rules/sch/PEPPOL-EN16931-UBL.sch``, 2026 May release), not as compiled XSLT. The pinned
  compiled XSLT is the one the phive validator (phax/phive-rules, commit 432f0e9a, folder
  ``openpeppol/2026.5``) ships for that release; its Schematron source there is byte-identical
  to the offline mirror's ``PEPPOL-EN16931-UBL.sch`` (sha256 f8234c0e...). Verified: computed
  from the file in a snapshot of phax/phive-rules at that commit. Not verified against an
  OpenPeppol-signed artefact (none is published in compiled form).
- OASIS UBL 2.1 (OS, 04 Nov 2013) ``UBL-2.1.zip``: the ZIP's own checksum is NOT pinned (no
  byte-identical copy of it was available to compute one); instead every runtime schema the
  product uses is pinned one by one (:data:`UBL_XSDRT`), computed from the offline mirror's
  ``ubl-2.1/xsdrt/`` (OASIS runtime schemas), and checked after extraction.
"""

import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile

RELEASE = "peppol-bis-3.0.21_cen-1.3.16_ubl-2.1"
ENV_VAR = "AR_PEPPOL_RULES"
MAX_BYTES = 64 * 2**20  # the UBL 2.1 OS zip is about 30 MB
CEN_SHA256 = "39f9d282867f1a49e7708d9e29a53da89643e1ee56f10cec1ebcf1277595fcbd"
PEPPOL_SHA256 = "8c6b935b1bc0bb17d29d949b0aa27ecc62021b613b9fba173cd6bfec6b3f0008"
# the same 3.0.21 Schematron compiled with SchXslt 1.10 (the offline mirror's compilation)
PEPPOL_SCHXSLT_SHA256 = "e0de19f14c1fb5d8bf8e387d3c87b4d499c28d8967e8596388ae9d5ce3271549"

UBL_XSDRT = {
    "common/CCTS_CCT_SchemaModule-2.1.xsd": "dd546e4809df86b6445589f69f0d6c9df162840ae386574ddfc1da7638103e15",
    "common/UBL-CommonAggregateComponents-2.1.xsd": "580b5af6f68f7f556bd15945ba0e819cbf561442c81694f9b9468036ebedec4d",
    "common/UBL-CommonBasicComponents-2.1.xsd": "a3b349bf92e5cff26e303d2f05b7e00c884dcafcfd9e12755fb80289abf5e22e",
    "common/UBL-CommonExtensionComponents-2.1.xsd": "ad7a4e490978adfbcfc5ec0bb20941cf11ac960ccf0c4de8791a7c731a8dbe87",
    "common/UBL-CommonSignatureComponents-2.1.xsd": "4fa9e2370100040fe14c43e135ef77e2eb66b21cb8dbfc2ffb8d82ae991fe92e",
    "common/UBL-CoreComponentParameters-2.1.xsd": "8be3379dbdcbcc7802fafdd16bac72c48fff1c0bb364213a31a17911dd06100b",
    "common/UBL-ExtensionContentDataType-2.1.xsd": "fcee77a11870208e6377ea6311b9f2a050bca24bdad8606ea02d71e9f9e72f8d",
    "common/UBL-QualifiedDataTypes-2.1.xsd": "7dcb156e610239c97ae70940cf4653b88e48c3595bf5f56a2204a32e2893e6cf",
    "common/UBL-SignatureAggregateComponents-2.1.xsd": (
        "9234c2ca48dbfa9a22a786112bb075c5922a305170920eaab1e3c04fa0b7344b"
    ),
    "common/UBL-SignatureBasicComponents-2.1.xsd": "0fbe2d7afff0c1e11164b8ec83e13f18801021c3c87e390a9d76f9cf862f6a64",
    "common/UBL-UnqualifiedDataTypes-2.1.xsd": "09052d406b4293e2a5f9c2bfee6df10ad4d8d5f0b36e24a6349d7f7936d89eb6",
    "common/UBL-XAdESv132-2.1.xsd": "a4f726bcf8cc3f7d9ffa4dab99e005535a8e8b60dced1e5d94578d2e05afa96e",
    "common/UBL-XAdESv141-2.1.xsd": "1fa4625e9cefcb7a9abb5ac1b64315547450031eece8a55bd584e4ba4b79dbc1",
    "common/UBL-xmldsig-core-schema-2.1.xsd": "101909c9f06456d61ddcc4fb982f1d40dc357b439f393b1a2eb46e42acd60809",
    "maindoc/UBL-Invoice-2.1.xsd": "3a5aacd823f0e5b8f25ae7b5191c2002d5333ba351d87de9371ed62dca2b2b0c",
    "maindoc/UBL-CreditNote-2.1.xsd": "1e117b6c1ab713604b29b0d685442a81a0c78a82575445ee8c43e6050cda7454",
    "maindoc/UBL-ApplicationResponse-2.1.xsd": "4f2687198b983be2bd943df9470d798fdaed5fd61c58ba2688654e93d9f0057e",
}

ARTEFACTS = [
    {
        "name": "CEN EN 16931 UBL 1.3.16",
        "url": "https://raw.githubusercontent.com/ConnectingEurope/eInvoicing-EN16931/"
        "validation-1.3.16/ubl/xslt/EN16931-UBL-validation.xslt",
        "target": "rules/CEN-EN16931-UBL.xslt",
        "sha256": CEN_SHA256,
    },
    {
        "name": "OpenPeppol BIS Billing 3.0.21",
        "url": "https://raw.githubusercontent.com/phax/phive-rules/432f0e9a8cff5c03d06625abe7a5fd8e7e346a64/"
        "phive-rules-peppol/src/main/resources/external/schematron/openpeppol/2026.5/xslt/PEPPOL-EN16931-UBL.xslt",
        "target": "rules/PEPPOL-EN16931-UBL.xslt",
        "sha256": PEPPOL_SHA256,
    },
    {
        "name": "OASIS UBL 2.1 schemas",
        "url": "https://docs.oasis-open.org/ubl/os-UBL-2.1/UBL-2.1.zip",
        "target": "ubl-2.1/xsdrt",
        "members": UBL_XSDRT,  # checked file by file after extraction (see the module docstring)
    },
]

# SHA-256 of known compiled rules -> the version they carry (shown on every finding)
KNOWN_RULES = {
    CEN_SHA256: "CEN EN 16931 UBL 1.3.16",
    PEPPOL_SHA256: "Peppol BIS Billing 3.0.21",
    PEPPOL_SCHXSLT_SHA256: "Peppol BIS Billing 3.0.21",
}


class RulesDownloadError(Exception):
    """An artefact could not be downloaded or does not match its pinned checksum."""


def how_to_provide():
    return (
        "The official Peppol rules are not available. Provide them in one of these ways: "
        f"(1) with network access, run 'make run' or 'make test' (the set-up downloads and verifies "
        f"{RELEASE}) or click 'Download the official rules' in Invoicing > Settings > Peppol; "
        f"(2) offline, set the environment variable {ENV_VAR} to a folder holding "
        "rules/CEN-EN16931-UBL.xslt, rules/PEPPOL-EN16931-UBL.xslt and ubl-2.1/xsdrt/; "
        "(3) per company, give a rules folder, ZIP or download URL in the Peppol settings."
    )


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def store_folder(data_dir):
    return os.path.join(data_dir, "ar_peppol_rules", RELEASE)


def installed(data_dir):
    """True when the pinned release was installed (and verified) into ``data_dir``."""
    folder = store_folder(data_dir)
    return bool(data_dir) and os.path.isfile(os.path.join(folder, "RELEASE.json"))


def env_folder():
    return os.environ.get(ENV_VAR) or None


def default_location(data_dir):
    """The rules every company without its own uses: the offline mirror named by
    ``AR_PEPPOL_RULES``, else the verified store in the data directory, else None."""
    folder = env_folder()
    if folder:
        return os.path.abspath(folder)
    if data_dir and installed(data_dir):
        return store_folder(data_dir)
    return None


def rules_version(cen_path, peppol_path):
    """What the compiled rules are, from their checksums (unknown files are named by hash)."""
    parts = []
    for label, path in (("CEN", cen_path), ("Peppol", peppol_path)):
        digest = sha256_file(path)
        parts.append(KNOWN_RULES.get(digest) or f"unpinned {label} rules (sha256 {digest[:12]})")
    return " + ".join(parts)


def _download(url, get, timeout):
    try:
        response = get(url, timeout=timeout, stream=True)
        response.raise_for_status()
        buffer = io.BytesIO()
        for chunk in response.iter_content(1 << 16):
            buffer.write(chunk)
            if buffer.tell() > MAX_BYTES:
                raise RulesDownloadError(f"{url}: larger than {MAX_BYTES // 2**20} MB")
        return buffer.getvalue()
    except RulesDownloadError:
        raise
    except Exception as exc:  # any network error is reported the same way
        raise RulesDownloadError(f"{url}: {exc}"[:400]) from exc


def _check(name, data, expected):
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise RulesDownloadError(f"{name}: SHA-256 {actual} does not match the pinned {expected}")


def _extract_members(name, data, members, target):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise RulesDownloadError(f"{name}: not a ZIP file") from exc
    by_suffix = {}
    for member in archive.namelist():
        for relpath in members:
            if member == f"xsdrt/{relpath}" or member.endswith(f"/xsdrt/{relpath}"):
                by_suffix[relpath] = member
    for relpath, expected in members.items():
        if relpath not in by_suffix:
            raise RulesDownloadError(f"{name}: xsdrt/{relpath} missing from the archive")
        content = archive.read(by_suffix[relpath])
        _check(f"{name} xsdrt/{relpath}", content, expected)
        path = os.path.join(target, relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(content)


def install(data_dir, artefacts=None, get=None, timeout=60):
    """Download, verify and store the pinned artefacts; returns the store folder.

    Nothing is stored unless every artefact matches its checksum (the files are assembled in a
    temporary folder and moved into place at the end)."""
    if get is None:
        import requests

        get = requests.get
    artefacts = ARTEFACTS if artefacts is None else artefacts
    final = store_folder(data_dir)
    os.makedirs(os.path.dirname(final), exist_ok=True)
    work = tempfile.mkdtemp(prefix=".download-", dir=os.path.dirname(final))
    try:
        for artefact in artefacts:
            data = _download(artefact["url"], get, timeout)
            target = os.path.join(work, artefact["target"])
            if artefact.get("members"):
                _extract_members(artefact["name"], data, artefact["members"], target)
                continue
            _check(artefact["name"], data, artefact["sha256"])
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as handle:
                handle.write(data)
        with open(os.path.join(work, "RELEASE.json"), "w", encoding="utf-8") as handle:
            json.dump(
                {
                    "release": RELEASE,
                    "artefacts": [{k: a.get(k) for k in ("name", "url", "sha256")} for a in artefacts],
                },
                handle,
                indent=1,
            )
        if os.path.isdir(final):
            shutil.rmtree(final)
        os.rename(work, final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final
