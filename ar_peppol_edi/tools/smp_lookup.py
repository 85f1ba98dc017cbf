"""Peppol participant discovery: SML (DNS NAPTR) then SMP over HTTP. No registry.

:func:`lookup` returns ``{"state", "smp_url", "message", "accepts"}`` where state is one of
``reachable`` (the buyer accepts the first document type asked, the BIS 3 invoice),
``not_registered``, ``doctype_not_supported`` or ``error`` (network trouble: try again later),
and ``accepts`` maps each document type asked to True/False.

The SMP answers follow the Peppol SMP 1.0 specification (busdox ``ServiceGroup`` and
``SignedServiceMetadata``): a ``ServiceMetadata`` holds either ``ServiceInformation`` or a
``Redirect`` (``href`` to another SMP's answer for the same document type), which is followed
once; a second redirect is an error. Every HTTP call has a time-out (connect and read) and
answers larger than :data:`MAX_ANSWER` are refused.
"""

from urllib.parse import quote, unquote

import requests
from lxml import etree

from .peppol_ids import (
    BIS3_PROCESS,
    DOCTYPE_SCHEME,
    SML_ZONE_PRODUCTION,
    naptr_domain,
    participant_id,
    smp_url_from_naptr,
)

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
MAX_ANSWER = 512 * 1024  # an SMP answer is a few kB; signed ones with certificates ~20 kB


class SmpAnswerError(ValueError):
    """The SMP answer cannot be used (too large, redirect loop)."""


def resolve_smp_url(eas, endpoint, zone=SML_ZONE_PRODUCTION, resolver=None, timeout=5.0):
    """The SMP base URL published in the SML for the participant, None if not registered.

    ``resolver`` is a ``dns.resolver.Resolver`` (tests inject one pointing at a local server).
    """
    import dns.exception
    import dns.resolver

    resolver = resolver or dns.resolver.Resolver()
    name = naptr_domain(eas, endpoint, zone)
    try:
        answer = resolver.resolve(name, "NAPTR", lifetime=timeout)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return None
    for record in sorted(answer, key=lambda r: (r.order, r.preference)):
        service = record.service.decode() if isinstance(record.service, bytes) else str(record.service)
        if service.lower() == "meta:smp":
            url = smp_url_from_naptr(record.regexp)
            if url:
                return url
    return None


def _get(session, url, timeout):
    """GET with time-outs and a size cap; returns (status, content)."""
    # one scalar time-out (connect and each read), as Odoo's test harness expects a number
    with session.get(url, timeout=timeout, headers={"Accept": "application/xml"}, stream=True) as response:
        content = b""
        for chunk in response.iter_content(16384):
            content += chunk
            if len(content) > MAX_ANSWER:
                raise SmpAnswerError(f"the SMP answer of {url} is larger than {MAX_ANSWER // 1024} kB")
        if response.status_code != 404:
            response.raise_for_status()
        return response.status_code, content


def _service_metadata(session, url, timeout):
    """The ServiceInformation's process ids of a document type, following one Redirect."""
    for hop in range(2):
        status, content = _get(session, url, timeout)
        if status == 404:
            return None
        root = etree.fromstring(content, _PARSER)
        redirect = next(root.iter("{*}Redirect"), None)
        if redirect is None:
            return {(el.text or "").strip() for el in root.iter("{*}ProcessIdentifier")}
        if hop:
            raise SmpAnswerError(f"the SMP redirected twice ({url})")
        url = redirect.get("href") or ""
        if not url.startswith(("http://", "https://")):
            raise SmpAnswerError("the SMP redirect has no address")
    return None


def lookup(
    eas, endpoint, doctypes, *, smp_url=None, zone=SML_ZONE_PRODUCTION, resolver=None, timeout=10.0, session=None
):
    """Discover which of ``doctypes`` participant ``eas:endpoint`` accepts on Peppol."""
    session = session or requests.Session()
    pid = participant_id(eas, endpoint)
    accepts = dict.fromkeys(doctypes, False)
    try:
        if not smp_url:
            smp_url = resolve_smp_url(eas, endpoint, zone=zone, resolver=resolver, timeout=timeout)
            if not smp_url:
                return {
                    "state": "not_registered",
                    "smp_url": False,
                    "message": f"{pid} is not in the SML ({zone})",
                    "accepts": accepts,
                }
        smp_url = smp_url.rstrip("/")
        status, content = _get(session, f"{smp_url}/{quote(pid, safe='')}", timeout)
        if status == 404:
            return {
                "state": "not_registered",
                "smp_url": smp_url,
                "message": f"{pid} is unknown to its SMP",
                "accepts": accepts,
            }
        root = etree.fromstring(content, _PARSER)
        hrefs = [unquote(el.get("href") or "") for el in root.iter("{*}ServiceMetadataReference")]
        for doctype in doctypes:
            wanted = f"{DOCTYPE_SCHEME}::{doctype}"
            if not any(href.endswith(wanted) for href in hrefs):
                continue
            processes = _service_metadata(
                session, f"{smp_url}/{quote(pid, safe='')}/services/{quote(wanted, safe='')}", timeout
            )
            accepts[doctype] = bool(processes and BIS3_PROCESS in processes)
        if accepts[doctypes[0]]:
            return {"state": "reachable", "smp_url": smp_url, "message": f"{pid} accepts BIS 3", "accepts": accepts}
        return {
            "state": "doctype_not_supported",
            "smp_url": smp_url,
            "message": f"{pid} is on Peppol but does not accept Peppol BIS Billing 3.0 invoices",
            "accepts": accepts,
        }
    except (requests.RequestException, etree.XMLSyntaxError, ValueError) as exc:
        return {"state": "error", "smp_url": smp_url or False, "message": str(exc)[:500], "accepts": accepts}
    except Exception as exc:  # noqa: BLE001 - dns errors (timeout, no nameserver) are not fatal
        return {
            "state": "error",
            "smp_url": smp_url or False,
            "message": f"{type(exc).__name__}: {exc}"[:500],
            "accepts": accepts,
        }
