"""Who a buyer is to the ERP: its customer group (hence price list) and its B2B company.

The edge caches the buyer → scope mapping; a customer change event carries this record so that
mapping can be dropped or replaced when the ERP moves a buyer to another group or company.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CustomerRecord:
    """``None`` means "none": no group (the channel default applies) or not part of a company."""

    customer_id: int
    customer_group_id: int | None = None
    company_id: int | None = None
    version: int = 0
