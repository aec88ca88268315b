"""Everything that speaks HTTP to Adobe: IMS for tokens, the Platform gateway, and one client per service over it
(base connections and dataflows in Flow Service, Catalog's datasets, the Schema Registry, Data Prep)."""

from .errors import AdobeError

__all__ = ["AdobeError"]
