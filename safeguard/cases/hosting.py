"""Where is a URL hosted? DNS gives the addresses, an IP-to-country database in MaxMind's
format (which the operator provides: GeoLite2-Country, DB-IP, IPinfo's mmdb...) gives the
country. An analyst's override always wins, and every answer says how it was found."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import maxminddb

from safeguard.errors import FeatureDisabled, InvalidInput

Resolver = Callable[[str], list[str]]


@dataclass(frozen=True)
class Hosting:
    url: str
    host: str
    addresses: list[str]
    country: str | None  # ISO 3166-1 alpha-2, upper case
    how: str  # "override", "ip-database", "not found", "dns failed: ..."


def resolve_dns(host: str) -> list[str]:
    """Every address the host resolves to, IPv4 and IPv6, in a stable order."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


class CountryDatabase:
    """An mmdb file: country of an address. Opened once; lookups are in memory."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise FeatureDisabled(f"no IP-to-country database at {path}; set "
                                  "SAFEGUARD_GEOIP_DATABASE to an mmdb file (e.g. "
                                  "GeoLite2-Country.mmdb), or give the country by hand")
        try:
            self._reader = maxminddb.open_database(str(path))
        except (maxminddb.InvalidDatabaseError, ValueError, OSError) as exc:
            raise InvalidInput(f"{path} is not a MaxMind-format database: {exc}") from exc

    def country(self, address: str) -> str | None:
        record: Any = self._reader.get(address)
        if not isinstance(record, dict):
            return None
        for key in ("country", "registered_country"):
            iso = (record.get(key) or {}).get("iso_code")
            if isinstance(iso, str):
                return iso.upper()
        iso = record.get("country_code")  # DB-IP / IPinfo lite layouts
        return iso.upper() if isinstance(iso, str) else None

    def close(self) -> None:
        self._reader.close()


def locate(url: str, database: CountryDatabase | None, *, override: str | None = None,
           resolver: Resolver = resolve_dns) -> Hosting:
    host = (urlsplit(url.strip()).hostname or "").lower().rstrip(".")
    if not host:
        raise InvalidInput(f"no host in {url[:200]!r}")
    if override:
        if len(override) != 2 or not override.isalpha():
            raise InvalidInput("a country is a two-letter ISO code, e.g. NL")
        return Hosting(url, host, [], override.upper(), "override")
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = resolver(host)
        except OSError as exc:
            return Hosting(url, host, [], None, f"dns failed: {exc}")
    if database is None:
        return Hosting(url, host, addresses, None, "no ip database configured")
    for address in addresses:
        country = database.country(address)
        if country:
            return Hosting(url, host, addresses, country, "ip-database")
    return Hosting(url, host, addresses, None, "not found")
