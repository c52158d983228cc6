"""PCM's configuration: clouds, abstract sizes, images and subnets and their per-cloud mappings,
roles and environments. All of it is edited in the Django admin and read on every request
(nothing is cached), so an edit applies to the next request.

One module per part: fields (names, limits), catalogue (what a client names: environments,
sizes, images, subnets, roles), connection (credentials, outbound addresses), cloud (a cloud
and its Inventory backend), mappings (what a name is on one cloud, and the cloud's own
catalogue), access (which groups see which clouds).
"""

from clouds.models.access import CloudAccess
from clouds.models.catalogue import AbstractImage, AbstractSize, AbstractSubnet, Environment, Role
from clouds.models.cloud import Cloud, InventoryBackend
from clouds.models.connection import (
    EncryptedCredentials,
    OutboundAllowed,
    _default_outbound_allow,  # named by migration 0011
)
from clouds.models.fields import ABSURD, SANE, name_validator
from clouds.models.mappings import (
    CatalogueItem,
    CheckedAtProvider,
    ImageMapping,
    SizeMapping,
    SubnetMapping,
)

__all__ = [
    "ABSURD",
    "SANE",
    "AbstractImage",
    "AbstractSize",
    "AbstractSubnet",
    "CatalogueItem",
    "CheckedAtProvider",
    "Cloud",
    "CloudAccess",
    "EncryptedCredentials",
    "Environment",
    "ImageMapping",
    "InventoryBackend",
    "OutboundAllowed",
    "Role",
    "SizeMapping",
    "SubnetMapping",
    "_default_outbound_allow",
    "name_validator",
]
