"""Peppol participant discovery: SML (DNS NAPTR) then SMP over HTTP. No registry.

:func:`lookup` returns a dict ``{"state", "smp_url", "message"}`` where state is one of
``reachable`` (the buyer accepts the document type), ``not_registered``,
``doctype_not_supported`` or ``error`` (network trouble: try again later).
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
    return session.get(url, timeout=timeout, headers={"Accept": "application/xml"})


def lookup(
    eas, endpoint, doctypes, *, smp_url=None, zone=SML_ZONE_PRODUCTION, resolver=None, timeout=10.0, session=None
):
    """Discover whether participant ``eas:endpoint`` accepts one of ``doctypes`` on Peppol."""
    session = session or requests.Session()
    pid = participant_id(eas, endpoint)
    try:
        if not smp_url:
            smp_url = resolve_smp_url(eas, endpoint, zone=zone, resolver=resolver, timeout=timeout)
            if not smp_url:
                return {"state": "not_registered", "smp_url": False, "message": f"{pid} is not in the SML"}
        smp_url = smp_url.rstrip("/")
        group = _get(session, f"{smp_url}/{quote(pid, safe='')}", timeout)
        if group.status_code == 404:
            return {"state": "not_registered", "smp_url": smp_url, "message": f"{pid} is unknown to its SMP"}
        group.raise_for_status()
        root = etree.fromstring(group.content, _PARSER)
        hrefs = [unquote(el.get("href") or "") for el in root.iter("{*}ServiceMetadataReference")]
        for doctype in doctypes:
            wanted = f"{DOCTYPE_SCHEME}::{doctype}"
            if not any(href.endswith(wanted) for href in hrefs):
                continue
            meta = _get(session, f"{smp_url}/{quote(pid, safe='')}/services/{quote(wanted, safe='')}", timeout)
            if meta.status_code == 404:
                continue
            meta.raise_for_status()
            meta_root = etree.fromstring(meta.content, _PARSER)
            processes = {(el.text or "").strip() for el in meta_root.iter("{*}ProcessIdentifier")}
            redirect = next(meta_root.iter("{*}Redirect"), None)
            if BIS3_PROCESS in processes or redirect is not None:
                return {"state": "reachable", "smp_url": smp_url, "message": f"{pid} accepts {doctype}"}
        return {
            "state": "doctype_not_supported",
            "smp_url": smp_url,
            "message": f"{pid} is on Peppol but does not accept Peppol BIS Billing 3.0",
        }
    except (requests.RequestException, etree.XMLSyntaxError, ValueError) as exc:
        return {"state": "error", "smp_url": smp_url or False, "message": str(exc)[:500]}
    except Exception as exc:  # noqa: BLE001 - dns errors (timeout, no nameserver) are not fatal
        return {"state": "error", "smp_url": smp_url or False, "message": f"{type(exc).__name__}: {exc}"[:500]}
