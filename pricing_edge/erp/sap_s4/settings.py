"""The S/4HANA connector's settings, from ``PRICING_EDGE_S4_*`` (and ``PRICING_EDGE_ERP_URL``)."""
from __future__ import annotations

from dataclasses import dataclass

from pricing_edge.config import Settings
from pricing_edge.erp.sap_s4.odata import Logon
from pricing_edge.erp.sap_s4.orders import OrderConditions, OrderDefaults

PRICE_LIST_FIELDS = ("PriceListType", "CustomerPriceGroup")


class S4SettingsError(ValueError):
    """A setting the connector cannot start with; the message names it."""


@dataclass(frozen=True)
class S4Settings:
    base_url: str
    logon: Logon
    sap_client: str | None
    sales_organization: str
    distribution_channel: str
    division: str
    company_code: str
    condition_type: str
    price_list_field: str
    rejection_reason: str
    timeout: float
    order_conditions: OrderConditions = OrderConditions()

    @classmethod
    def of(cls, settings: Settings) -> S4Settings:
        logon = Logon(settings.s4_user, settings.s4_password, settings.s4_token_url, settings.s4_client_id,
                      settings.s4_client_secret)
        problem = logon.problem()
        if problem:
            raise S4SettingsError(f"PRICING_EDGE_ERP=s4hana: {problem}")
        if settings.s4_price_list_field not in PRICE_LIST_FIELDS:
            raise S4SettingsError(f"PRICING_EDGE_S4_PRICE_LIST_FIELD must be one of {', '.join(PRICE_LIST_FIELDS)}, "
                                  f"not {settings.s4_price_list_field!r}")
        try:
            conditions = OrderConditions.parse(settings.s4_order_conditions, settings.s4_condition_type)
        except ValueError as exc:
            raise S4SettingsError(f"PRICING_EDGE_S4_ORDER_CONDITIONS: {exc}") from None
        return cls(settings.erp_url, logon, settings.s4_sap_client, settings.s4_sales_organization,
                   settings.s4_distribution_channel, settings.s4_division, settings.s4_company_code,
                   settings.s4_condition_type, settings.s4_price_list_field, settings.s4_rejection_reason,
                   settings.erp_timeout, conditions)

    @property
    def order_defaults(self) -> OrderDefaults:
        return OrderDefaults(self.sales_organization, self.distribution_channel, self.division,
                             self.condition_type, self.rejection_reason, self.order_conditions)
