"""Everything that speaks HTTP to Adobe: IMS for tokens, Flow Service for connections and their dataflows, Catalog
and the Schema Registry for datasets, Data Prep for mappings."""

from .dataflows import Dataflows
from .errors import AdobeError
from .flow_service import FlowServiceClient
from .ims import TokenProvider

__all__ = ["AdobeError", "Dataflows", "FlowServiceClient", "TokenProvider"]
