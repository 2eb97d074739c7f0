"""Realistic answers from the mocked clouds: the shapes of real ids, kubeconfigs, NFS hosts and
lookups, so the program runs exactly as it would against a provider, minus the cloud.

Each provider's answers live in a mixin of its own (tools/mocks_<provider>.py); CloudMocks is all of them.
"""

from __future__ import annotations

from tools.mocks_base import MockBase
from tools.mocks_do import DigitalOceanMocks, RandomMocks
from tools.mocks_oci import OciMocks
from tools.mocks_oci_ods import OciDataScienceMocks
from tools.mocks_oci_rdma import OciRdmaMocks


class CloudMocks(DigitalOceanMocks, OciMocks, OciRdmaMocks, OciDataScienceMocks, RandomMocks, MockBase):
    pass
