"""The app's services, each reached through one typed accessor rather than a string key at every call site."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from ..adobe import Dataflows, FlowServiceClient
    from ..adobe.data_prep import DataPrep
    from ..adobe.datasets import Datasets
    from ..store import Store
    from .spec_catalog import SpecCatalog


def flow_service() -> FlowServiceClient:
    return current_app.extensions["flow_service"]


def dataflows() -> Dataflows:
    return current_app.extensions["dataflows"]


def datasets() -> Datasets:
    return current_app.extensions["datasets"]


def data_prep() -> DataPrep:
    return current_app.extensions["data_prep"]


def store() -> Store:
    return current_app.extensions["store"]


def spec_catalog() -> SpecCatalog:
    return current_app.extensions["spec_catalog"]
