"""Run-time validation of UBL documents with the official Peppol BIS 3 rules (no registry).

The rules (CEN EN 16931 UBL and OpenPeppol BIS Billing 3 schematron, compiled to XSLT) are
read from a folder or a ZIP file the administrator points to. The compiled stylesheets are
compiled once and kept in a helper process, one per Odoo process and rules location
(compiling takes about a second, validating a document about ten milliseconds).

Why a helper process: the SaxonC engine (a GraalVM native image) reserves more than 8 GB of
address space when it starts, which Odoo's ``limit_memory_hard`` (RLIMIT_AS) forbids inside a
worker. The helper raises its own soft limit to the hard one and serves validations over a pipe.

Validation fails closed: when the rules cannot be loaded or the helper dies,
:class:`RulesUnavailable` is raised and the caller must report "not validated".
"""

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import zipfile

from lxml import etree

try:
    from .rules_store import how_to_provide, rules_version
except ImportError:  # run as the helper script (``python ubl_validator.py --serve``)
    from rules_store import how_to_provide, rules_version

NS_INV = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CN = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
SVRL = "http://purl.oclc.org/dsdl/svrl"
FATAL_FLAGS = {"fatal", "error"}
_PFX = {
    "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2": "cac:",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2": "cbc:",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2": "ext:",
    NS_INV: "",
    NS_CN: "",
}
# stage name -> file name pattern of the compiled rules, in the order they run
STAGES = [
    ("CEN", re.compile(r"^CEN-EN16931-UBL.*\.xslt?$", re.I)),
    ("PEPPOL", re.compile(r"^PEPPOL-EN16931-UBL.*\.xslt?$", re.I)),
]

_LOCK = threading.RLock()
_CACHE = {}


class RulesUnavailable(Exception):
    """The official rules could not be found or compiled: documents cannot be validated."""


def short_location(loc):
    """'/*:X[namespace-uri()='ns'][1]' and '/Q{ns}X[1]' paths -> '/cac:X[1]'."""
    loc = re.sub(
        r"\*:([\w.-]+)\[namespace-uri\(\)='([^']*)'\]",
        lambda m: _PFX.get(m.group(2), f"{{{m.group(2)}}}") + m.group(1),
        loc,
    )
    return re.sub(r"Q\{([^}]*)\}", lambda m: _PFX.get(m.group(1), f"{{{m.group(1)}}}"), loc)


def _extract_zip(path):
    """Extract a rules ZIP once into a folder named after its content hash."""
    with open(path, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()[:16]
    target = os.path.join(tempfile.gettempdir(), f"ar_peppol_rules_{digest}")
    if not os.path.isdir(target):
        tmp = f"{target}.{os.getpid()}"
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                # no absolute paths, no parent traversal
                if member.startswith(("/", "\\")) or ".." in member.split("/"):
                    raise RulesUnavailable(f"unsafe path in rules archive: {member}")
            archive.extractall(tmp)
        if not os.path.isdir(target):  # another process may have extracted it meanwhile
            os.rename(tmp, target)
    return target


def _find_rules(folder):
    found = {}
    xsd_dir = None
    for root, _dirs, files in os.walk(folder):
        for name in sorted(files):
            for stage, pattern in STAGES:
                if stage not in found and pattern.match(name):
                    found[stage] = os.path.join(root, name)
            if name == "UBL-Invoice-2.1.xsd" and xsd_dir is None:
                xsd_dir = root
    return found, xsd_dir


class UblValidator:
    """Compiled official rules. Use :func:`get_validator` (cached) rather than building one."""

    def __init__(self, location):
        if not location or not os.path.exists(location):
            raise RulesUnavailable(f"rules location not found: {location!r}")
        folder = _extract_zip(location) if zipfile.is_zipfile(location) else location
        found, xsd_dir = _find_rules(folder)
        if xsd_dir is None:
            # the UBL schemas often sit beside the rules folder
            sibling = os.path.join(os.path.dirname(os.path.abspath(folder)), "ubl-2.1")
            if os.path.isdir(sibling):
                xsd_dir = _find_rules(sibling)[1]
        missing = [stage for stage, _pattern in STAGES if stage not in found]
        if missing:
            raise RulesUnavailable(f"compiled rules missing in {location}: {', '.join(missing)}")
        try:
            from saxonche import PySaxonProcessor
        except ImportError as exc:
            raise RulesUnavailable("the saxonche engine is not installed") from exc
        self.location = location
        self.version = rules_version(found["CEN"], found["PEPPOL"])
        self.proc = PySaxonProcessor(license=False)
        xslt = self.proc.new_xslt30_processor()
        self.stages = []
        for stage, _pattern in STAGES:
            try:
                exe = xslt.compile_stylesheet(stylesheet_file=found[stage])
            except Exception as exc:
                raise RulesUnavailable(f"cannot compile {found[stage]}: {exc}") from exc
            if exe is None:
                raise RulesUnavailable(f"cannot compile {found[stage]}")
            self.stages.append((stage, exe))
        self.schemas = {}
        if xsd_dir:
            self.schemas = {
                NS_INV: etree.XMLSchema(file=os.path.join(xsd_dir, "UBL-Invoice-2.1.xsd")),
                NS_CN: etree.XMLSchema(file=os.path.join(xsd_dir, "UBL-CreditNote-2.1.xsd")),
            }
        self.parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)

    def _svrl(self, stage, svrl_text):
        out = []
        root = etree.fromstring(svrl_text.encode("utf-8"), self.parser)
        for el in root.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
            txt = el.find(f"{{{SVRL}}}text")
            out.append(
                {
                    "stage": stage,
                    "id": el.get("id") or "",
                    "flag": el.get("flag") or "error",
                    "location": short_location(el.get("location") or ""),
                    "text": " ".join((txt.xpath("string()") if txt is not None else "").split()),
                }
            )
        return out

    def validate(self, xml_bytes):
        """Validate one document (bytes). Returns ``{'findings': [...], 'fatal': n, 'warning': n}``."""
        from saxonche import PySaxonApiError

        try:
            tree = etree.ElementTree(etree.fromstring(xml_bytes, self.parser))
        except etree.XMLSyntaxError as exc:
            findings = [{"stage": "XML", "id": "XML", "flag": "fatal", "location": "", "text": str(exc)}]
            return {"findings": findings, "fatal": 1, "warning": 0}
        findings = []
        root_ns = etree.QName(tree.getroot()).namespace
        if root_ns not in (NS_INV, NS_CN):
            findings.append(
                {"stage": "XSD", "id": "XSD", "flag": "fatal", "location": "/", "text": "not a UBL Invoice/CreditNote"}
            )
        elif self.schemas and not self.schemas[root_ns].validate(tree):
            for err in self.schemas[root_ns].error_log:
                findings.append(
                    {"stage": "XSD", "id": "XSD", "flag": "fatal", "location": f"line {err.line}", "text": err.message}
                )
        with _LOCK:  # one SaxonC processor per process, not thread-safe
            node = self.proc.parse_xml(xml_text=xml_bytes.decode("utf-8"))
            for stage, exe in self.stages:
                try:
                    svrl = exe.transform_to_string(xdm_node=node)
                except PySaxonApiError as exc:
                    findings.append(
                        {
                            "stage": stage,
                            "id": "XSLT-ERROR",
                            "flag": "fatal",
                            "location": "",
                            "text": " ".join(str(exc).split())[:300],
                        }
                    )
                    continue
                findings.extend(self._svrl(stage, svrl))
        return {
            "findings": findings,
            "fatal": sum(f["flag"] in FATAL_FLAGS for f in findings),
            "warning": sum(f["flag"] == "warning" for f in findings),
        }


def serve(location):
    """Helper process main loop: compile the rules once, then read documents from stdin
    (``<length>\\n<bytes>``) and write one JSON line per result on stdout."""
    try:
        import resource

        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
    except (ImportError, ValueError, OSError) as exc:
        sys.stderr.write(f"cannot raise the address-space limit: {exc}\n")
    out = sys.stdout.buffer
    try:
        validator = UblValidator(location)
    except RulesUnavailable as exc:
        out.write(json.dumps({"ready": False, "error": str(exc)}).encode() + b"\n")
        out.flush()
        return 1
    out.write(json.dumps({"ready": True, "version": validator.version}).encode() + b"\n")
    out.flush()
    stdin = sys.stdin.buffer
    while True:
        header = stdin.readline()
        if not header:
            return 0
        data = stdin.read(int(header))
        try:
            result = validator.validate(data)
        except Exception as exc:  # noqa: BLE001 - reported to the caller as a fatal finding
            result = {
                "findings": [
                    {"stage": "ENGINE", "id": "ENGINE", "flag": "fatal", "location": "", "text": str(exc)[:500]}
                ],
                "fatal": 1,
                "warning": 0,
            }
        out.write(json.dumps(result).encode() + b"\n")
        out.flush()


class ValidatorProcess:
    """Client of a helper process holding the compiled rules (see :func:`serve`)."""

    def __init__(self, location, start_timeout=120):
        self.location = location
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--serve", location],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
        )
        line = self.proc.stdout.readline()
        try:
            hello = json.loads(line or b"{}")
        except ValueError:
            hello = {}
        if not hello.get("ready"):
            self.close()
            raise RulesUnavailable(hello.get("error") or "the validation engine could not start")
        self.version = hello.get("version") or ""

    def alive(self):
        return self.proc.poll() is None and self.pid == os.getpid()

    def validate(self, xml_bytes):
        with self.lock:
            try:
                self.proc.stdin.write(b"%d\n" % len(xml_bytes) + xml_bytes)
                self.proc.stdin.flush()
                line = self.proc.stdout.readline()
                if not line:
                    raise RulesUnavailable("the validation engine stopped")
                result = json.loads(line)
                result["version"] = self.version
                return result
            except (OSError, ValueError) as exc:
                self.close()
                raise RulesUnavailable(f"the validation engine failed: {exc}") from exc

    def close(self):
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def close_all():
    """Stop the helper processes started by this process (tests, shutdown)."""
    with _LOCK:
        for validator in _CACHE.values():
            if validator.pid == os.getpid():
                validator.close()
        _CACHE.clear()


def get_validator(location):
    """The validator for ``location``: rules compiled once per Odoo process (thread-safe)."""
    if not location:
        raise RulesUnavailable(how_to_provide())
    try:
        stamp = os.path.getmtime(location)
    except OSError as exc:
        raise RulesUnavailable(f"rules location not found: {location!r}") from exc
    key = (os.path.abspath(location), stamp, os.getpid())
    with _LOCK:
        validator = _CACHE.get(key)
        if validator is None or not validator.alive():
            for old in _CACHE.values():
                if old.pid == os.getpid():
                    old.close()
            _CACHE.clear()
            validator = ValidatorProcess(location)
            _CACHE[key] = validator
        return validator


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "--serve":
    sys.exit(serve(sys.argv[2]))
