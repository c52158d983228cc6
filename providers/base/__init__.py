"""The interface every provider plugin offers, over Apache Libcloud.

The rest of PCM sees plain data (`Node`, `Size`, `Image`, `Location`, `Subnet`; data.py)
and one error type, `ProviderError` (errors.py). A plugin subclasses `Provider`
(provider.py), declares its options, capabilities and state map, and says how to build its
libcloud driver; the operations are shared there.
"""

from providers.base.data import (
    CAPABILITIES,
    FEATURES,
    OPERATIONS,
    TAG,
    CreateOptions,
    Image,
    Location,
    Node,
    Size,
    Subnet,
)
from providers.base.errors import (
    NODE_ACTIONS,
    ExtraError,
    NotFoundAtProvider,
    ProviderError,
    StateConflict,
    Unsupported,
    read_page,
    worth_asking_again,
)
from providers.base.extra import Param
from providers.base.provider import DEFAULT_TIMEOUT, TIMEOUT_OPTION, Provider
from providers.options import ConfigError, Option

__all__ = [
    "CAPABILITIES",
    "DEFAULT_TIMEOUT",
    "FEATURES",
    "NODE_ACTIONS",
    "OPERATIONS",
    "TAG",
    "TIMEOUT_OPTION",
    "ConfigError",
    "CreateOptions",
    "ExtraError",
    "Image",
    "Location",
    "Node",
    "NotFoundAtProvider",
    "Option",
    "Param",
    "Provider",
    "ProviderError",
    "Size",
    "StateConflict",
    "Subnet",
    "Unsupported",
    "read_page",
    "worth_asking_again",
]
