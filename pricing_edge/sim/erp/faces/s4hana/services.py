"""The entity sets the S/4HANA face serves: a subset of SAP's ``API_*`` services — the same set,
type, key, property and navigation names and types (``tests/sim/erp/test_s4hana_conformance.py``
checks them against the EDMX) — holding only what a connector needs.
"""
from __future__ import annotations

from pricing_edge.sim.erp.faces.odata.model import (
    EntitySet,
    Nav,
    Prop,
    Service,
    dec,
    dt,
    dto,
    flag,
    key,
    s,
)

PRICING = "API_SLSPRICINGCONDITIONRECORD_SRV"
STOCK = "API_MATERIAL_STOCK_SRV"
PARTNERS = "API_BUSINESS_PARTNER"
OPEN_ITEMS = "API_OPLACCTGDOCITEMCUBE_SRV"
SALES_ORDERS = "API_SALES_ORDER_SRV"
DELIVERIES = "API_OUTBOUND_DELIVERY_SRV"
BILLING = "API_BILLING_DOCUMENT_SRV"


def _record_key(*names: str) -> tuple[tuple[str, str], ...]:
    return tuple((n, n) for n in names)


def pricing() -> Service:
    record = EntitySet("A_SlsPrcgConditionRecord", "A_SlsPrcgConditionRecordType", ("ConditionRecord",), (
        key("ConditionRecord", 10), s("ConditionSequentialNumber", 2), s("ConditionTable", 3),
        s("ConditionApplication", 2), s("ConditionType", 4), dt("ConditionValidityEndDate"),
        dt("ConditionValidityStartDate"), dt("CreationDate"), s("PricingScaleType", 1), s("PricingScaleBasis", 1),
        s("ConditionCalculationType", 1), dec("ConditionRateValue", 12, 3), s("ConditionRateValueUnit", 5),
        dec("ConditionQuantity", 5, 0), s("ConditionQuantityUnit", 3), flag("ConditionIsDeleted"),
        s("ConditionReleaseStatus", 1), dto("LastChangeDateTime"), s("ETag", 40)), (
        Nav("to_SlsPrcgCndnRecdValidity", "A_SlsPrcgCndnRecdValidity", True, _record_key("ConditionRecord")),
        Nav("to_SlsPrcgCndnRecordScale", "A_SlsPrcgCndnRecordScale", True, _record_key("ConditionRecord"))))
    validity = EntitySet("A_SlsPrcgCndnRecdValidity", "A_SlsPrcgCndnRecdValidityType",
                         ("ConditionRecord", "ConditionValidityEndDate"), (
        key("ConditionRecord", 10), dt("ConditionValidityEndDate", nullable=False), dt("ConditionValidityStartDate"),
        s("ConditionApplication", 2), s("ConditionType", 4), s("ConditionReleaseStatus", 1),
        s("CustomerPriceGroup", 2), s("Customer", 10), s("Material", 40), s("PriceListType", 2),
        s("SalesOrganization", 4), s("DistributionChannel", 2), s("TransactionCurrency", 5)), (
        Nav("to_SlsPrcgConditionRecord", "A_SlsPrcgConditionRecord", False, _record_key("ConditionRecord")),))
    scale = EntitySet("A_SlsPrcgCndnRecordScale", "A_SlsPrcgCndnRecordScaleType",
                      ("ConditionRecord", "ConditionSequentialNumber", "ConditionScaleLine"), (
        key("ConditionRecord", 10), key("ConditionSequentialNumber", 2), key("ConditionScaleLine", 4),
        dec("ConditionScaleQuantity", 15, 3), s("ConditionScaleQuantityUnit", 3), dec("ConditionRateValue", 12, 3),
        s("ConditionRateValueUnit", 5)), (
        Nav("to_SlsPrcgConditionRecord", "A_SlsPrcgConditionRecord", False, _record_key("ConditionRecord")),))
    return Service.of(PRICING, [record, validity, scale])


def stock() -> Service:
    material = EntitySet("A_MaterialStock", "A_MaterialStockType", ("Material",), (
        key("Material", 40), s("MaterialBaseUnit", 3)), (
        Nav("to_MatlStkInAcctMod", "A_MatlStkInAcctMod", True, _record_key("Material")),))
    keys = ("Material", "Plant", "StorageLocation", "Batch", "Supplier", "Customer", "WBSElementInternalID",
            "SDDocument", "SDDocumentItem", "InventorySpecialStockType", "InventoryStockType")
    lengths = (40, 4, 4, 10, 10, 10, 8, 10, 6, 1, 2)
    by_account = EntitySet("A_MatlStkInAcctMod", "A_MatlStkInAcctModType", keys, (
        *(key(name, length) for name, length in zip(keys, lengths, strict=True)), s("MaterialBaseUnit", 3),
        dec("MatlWrhsStkQtyInMatlBaseUnit", 31, 14)), (
        Nav("to_MaterialStock", "A_MaterialStock", False, _record_key("Material")),))
    return Service.of(STOCK, [material, by_account])


def partners() -> Service:
    partner = EntitySet("A_BusinessPartner", "A_BusinessPartnerType", ("BusinessPartner",), (
        key("BusinessPartner", 10), s("Customer", 10), s("BusinessPartnerCategory", 1),
        s("BusinessPartnerFullName", 81), s("FirstName", 40), s("LastName", 40), s("OrganizationBPName1", 40),
        dt("LastChangeDate"), Prop("LastChangeTime", "Edm.Time", precision=0), flag("BusinessPartnerIsBlocked"),
        s("ETag", 26)), (
        Nav("to_Customer", "A_Customer", False, (("Customer", "Customer"),)),
        Nav("to_BusinessPartnerContact", "A_BusinessPartnerContact", True,
            (("BusinessPartner", "BusinessPartnerCompany"),))))
    contact = EntitySet("A_BusinessPartnerContact", "A_BusinessPartnerContactType",
                        ("RelationshipNumber", "BusinessPartnerCompany", "BusinessPartnerPerson", "ValidityEndDate"), (
        key("RelationshipNumber", 12), key("BusinessPartnerCompany", 10), key("BusinessPartnerPerson", 10),
        dt("ValidityEndDate", nullable=False), dt("ValidityStartDate"), flag("IsStandardRelationship"),
        s("RelationshipCategory", 6)))
    customer = EntitySet("A_Customer", "A_CustomerType", ("Customer",), (
        key("Customer", 10), s("CustomerName", 80), s("CustomerFullName", 220), s("OrderIsBlockedForCustomer", 2),
        s("DeliveryIsBlocked", 2), s("BillingIsBlockedForCustomer", 2), flag("PostingIsBlocked"),
        flag("DeletionIndicator")), (
        Nav("to_CustomerSalesArea", "A_CustomerSalesArea", True, _record_key("Customer")),))
    sales_area = EntitySet("A_CustomerSalesArea", "A_CustomerSalesAreaType",
                           ("Customer", "SalesOrganization", "DistributionChannel", "Division"), (
        key("Customer", 10), key("SalesOrganization", 4), key("DistributionChannel", 2), key("Division", 2),
        s("Currency", 5), s("CustomerGroup", 2), s("CustomerPriceGroup", 2), s("PriceListType", 2),
        s("OrderIsBlockedForCustomer", 2), flag("DeletionIndicator")))
    return Service.of(PARTNERS, [partner, contact, customer, sales_area])


def open_items() -> Service:
    item = EntitySet("A_OperationalAcctgDocItemCube", "A_OperationalAcctgDocItemCubeType",
                     ("CompanyCode", "FiscalYear", "AccountingDocument", "AccountingDocumentItem"), (
        key("CompanyCode", 4), key("FiscalYear", 4), key("AccountingDocument", 10), key("AccountingDocumentItem", 3),
        s("Customer", 10), flag("IsCleared"), dt("ClearingDate"), dt("PostingDate"), dt("NetDueDate"),
        s("DebitCreditCode", 1), s("AccountingDocumentType", 2), s("BillingDocument", 10),
        s("CompanyCodeCurrency", 5), dec("AmountInCompanyCodeCurrency", 24, 3), s("TransactionCurrency", 5),
        dec("AmountInTransactionCurrency", 24, 3)))
    return Service.of(OPEN_ITEMS, [item])


def sales_orders() -> Service:
    order = EntitySet("A_SalesOrder", "A_SalesOrderType", ("SalesOrder",), (
        key("SalesOrder", 10), s("SalesOrderType", 4), s("SalesOrganization", 4), s("DistributionChannel", 2),
        s("OrganizationDivision", 2), s("SoldToParty", 10), dt("CreationDate"), dt("LastChangeDate"),
        dto("LastChangeDateTime", concurrency=True), s("PurchaseOrderByCustomer", 35),
        s("PurchaseOrderByShipToParty", 35), dt("SalesOrderDate"), dec("TotalNetAmount", 16, 3),
        s("TransactionCurrency", 5), s("OverallSDProcessStatus", 1), s("OverallDeliveryStatus", 1),
        s("OverallOrdReltdBillgStatus", 1), s("OverallSDDocumentRejectionSts", 1), s("DeliveryBlockReason", 2)), (
        Nav("to_Item", "A_SalesOrderItem", True, _record_key("SalesOrder")),
        Nav("to_Partner", "A_SalesOrderHeaderPartner", True, _record_key("SalesOrder")),
        Nav("to_PricingElement", "A_SalesOrderHeaderPrElement", True, _record_key("SalesOrder")),
        Nav("to_Text", "A_SalesOrderText", True, _record_key("SalesOrder"))))
    item = EntitySet("A_SalesOrderItem", "A_SalesOrderItemType", ("SalesOrder", "SalesOrderItem"), (
        key("SalesOrder", 10), key("SalesOrderItem", 6), s("SalesOrderItemCategory", 4), s("SalesOrderItemText", 40),
        s("Material", 40), dec("RequestedQuantity", 15, 3), s("RequestedQuantityUnit", 3),
        s("TransactionCurrency", 5), dec("NetAmount", 16, 3), dec("TaxAmount", 14, 3),
        s("SalesDocumentRjcnReason", 2), s("DeliveryStatus", 1), s("SDProcessStatus", 1)), (
        Nav("to_SalesOrder", "A_SalesOrder", False, _record_key("SalesOrder")),
        Nav("to_PricingElement", "A_SalesOrderItemPrElement", True, _record_key("SalesOrder", "SalesOrderItem")),
        Nav("to_Partner", "A_SalesOrderItemPartner", True, _record_key("SalesOrder", "SalesOrderItem")),
        Nav("to_Text", "A_SalesOrderItemText", True, _record_key("SalesOrder", "SalesOrderItem"))))
    condition = (s("ConditionType", 4), dec("ConditionRateValue", 24, 9), s("ConditionCurrency", 5),
                 dec("ConditionQuantity", 5, 0), s("ConditionQuantityUnit", 3), dec("ConditionAmount", 16, 3),
                 s("TransactionCurrency", 5), flag("ConditionIsManuallyChanged"))
    element = EntitySet("A_SalesOrderItemPrElement", "A_SalesOrderItemPrElementType",
                        ("SalesOrder", "SalesOrderItem", "PricingProcedureStep", "PricingProcedureCounter"), (
        key("SalesOrder", 10), key("SalesOrderItem", 6), key("PricingProcedureStep", 3),
        key("PricingProcedureCounter", 3), *condition))
    header_element = EntitySet("A_SalesOrderHeaderPrElement", "A_SalesOrderHeaderPrElementType",
                               ("SalesOrder", "PricingProcedureStep", "PricingProcedureCounter"), (
        key("SalesOrder", 10), key("PricingProcedureStep", 3), key("PricingProcedureCounter", 3), *condition))
    item_partner = EntitySet("A_SalesOrderItemPartner", "A_SalesOrderItemPartnerType",
                             ("SalesOrder", "SalesOrderItem", "PartnerFunction"), (
        key("SalesOrder", 10), key("SalesOrderItem", 6), key("PartnerFunction", 2), s("Customer", 10),
        s("ContactPerson", 10)), (
        Nav("to_Address", "A_SalesOrderItemPartnerAddress", True,
            _record_key("SalesOrder", "SalesOrderItem", "PartnerFunction")),))
    item_text = EntitySet("A_SalesOrderItemText", "A_SalesOrderItemTextType",
                          ("SalesOrder", "SalesOrderItem", "Language", "LongTextID"), (
        key("SalesOrder", 10), key("SalesOrderItem", 6), key("Language", 2), key("LongTextID", 4),
        Prop("LongText")))
    partner = EntitySet("A_SalesOrderHeaderPartner", "A_SalesOrderHeaderPartnerType", ("SalesOrder", "PartnerFunction"), (
        key("SalesOrder", 10), key("PartnerFunction", 2), s("Customer", 10), s("ContactPerson", 10)), (
        Nav("to_Address", "A_SalesOrderPartnerAddress", True, _record_key("SalesOrder", "PartnerFunction")),))
    postal = (s("AddresseeFullName", 80), s("OrganizationName1", 40), s("StreetName", 60), s("StreetSuffixName1", 40),
              s("CityName", 40), s("PostalCode", 10), s("Region", 3), s("Country", 3))
    address = EntitySet("A_SalesOrderPartnerAddress", "A_SalesOrderPartnerAddressType",
                        ("SalesOrder", "PartnerFunction", "AddressRepresentationCode"), (
        key("SalesOrder", 10), key("PartnerFunction", 2), key("AddressRepresentationCode", 1), *postal))
    item_address = EntitySet("A_SalesOrderItemPartnerAddress", "A_SalesOrderItemPartnerAddressType",
                             ("SalesOrder", "SalesOrderItem", "PartnerFunction", "AddressRepresentationCode"), (
        key("SalesOrder", 10), key("SalesOrderItem", 6), key("PartnerFunction", 2),
        key("AddressRepresentationCode", 1), *postal))
    header_text = EntitySet("A_SalesOrderText", "A_SalesOrderTextType", ("SalesOrder", "Language", "LongTextID"), (
        key("SalesOrder", 10), key("Language", 2), key("LongTextID", 4), Prop("LongText")))
    return Service.of(SALES_ORDERS, [order, item, element, header_element, partner, address, item_partner,
                                     item_address, item_text, header_text])


def deliveries() -> Service:
    header = EntitySet("A_OutbDeliveryHeader", "A_OutbDeliveryHeaderType", ("DeliveryDocument",), (
        key("DeliveryDocument", 10), s("DeliveryDocumentType", 4), s("SoldToParty", 10), s("ShipToParty", 10),
        s("ShippingPoint", 4), s("BillOfLading", 35), s("MeansOfTransport", 20),
        Prop("ActualGoodsMovementDate", "Edm.DateTime", precision=7), s("OverallGoodsMovementStatus", 1),
        s("OverallSDProcessStatus", 1), Prop("CreationDate", "Edm.DateTime", precision=7),
        Prop("LastChangeDate", "Edm.DateTime", precision=7)), (
        Nav("to_DeliveryDocumentItem", "A_OutbDeliveryItem", True, _record_key("DeliveryDocument")),))
    item = EntitySet("A_OutbDeliveryItem", "A_OutbDeliveryItemType", ("DeliveryDocument", "DeliveryDocumentItem"), (
        key("DeliveryDocument", 10), key("DeliveryDocumentItem", 6), s("Material", 40),
        dec("ActualDeliveryQuantity", 13, 3), s("DeliveryQuantityUnit", 3), s("ReferenceSDDocument", 10),
        s("ReferenceSDDocumentItem", 6), s("Plant", 4), s("GoodsMovementStatus", 1)))
    return Service.of(DELIVERIES, [header, item])


def billing() -> Service:
    document = EntitySet("A_BillingDocument", "A_BillingDocumentType", ("BillingDocument",), (
        key("BillingDocument", 10), s("BillingDocumentType", 4), s("SoldToParty", 10), dt("BillingDocumentDate"),
        flag("BillingDocumentIsCancelled"), dec("TotalNetAmount", 16, 3), dec("TaxAmount", 14, 3),
        dec("TotalGrossAmount", 17, 3), s("TransactionCurrency", 5), s("PurchaseOrderByCustomer", 35),
        dt("CreationDate"), dto("LastChangeDateTime")), (
        Nav("to_Item", "A_BillingDocumentItem", True, _record_key("BillingDocument")),))
    item = EntitySet("A_BillingDocumentItem", "A_BillingDocumentItemType", ("BillingDocument", "BillingDocumentItem"), (
        key("BillingDocument", 10), key("BillingDocumentItem", 6), s("Material", 40), dec("BillingQuantity", 13, 3),
        s("BillingQuantityUnit", 3), dec("NetAmount", 16, 3), s("TransactionCurrency", 5),
        s("ReferenceSDDocument", 10), s("SalesDocument", 10), s("SalesDocumentItem", 6)))
    return Service.of(BILLING, [document, item])


def all_services() -> list[Service]:
    return [pricing(), stock(), partners(), open_items(), sales_orders(), deliveries(), billing()]
