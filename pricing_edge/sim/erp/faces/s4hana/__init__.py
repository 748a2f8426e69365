"""The simulated ERP's SAP S/4HANA face: seven ``API_*`` OData V2 services over the one state, behind
a Gateway (Basic or OAuth, ``sap-client``, CSRF, ``$batch``, throttling), in SAP's codes.

Routes (``{svc}`` one of the services in ``services.py``)::

  GET|POST|PATCH|MERGE|DELETE /sap/opu/odata/sap/{svc}/...   the OData services ($metadata, sets, $batch)
  POST /oauth/token                                        client-credentials tokens (when configured)
  POST /_sim/s4hana/sessions/expire                        forget every session, CSRF token and token
  POST /_sim/s4hana/throttle {"requests", "retry_after"}   the next N calls answer 429 + Retry-After
  GET  /_sim/s4hana/gateway                                request, throttle and refusal counters
  GET  /_sim/s4hana/mapping                                the connector mapping document for this ERP

Changes emit S/4 business events (thin CloudEvents, signed like ours) to the simulator's events URL:
``sap.s4.beh.salesorder.v1.SalesOrder.Created.v1`` / ``...Changed.v1`` ``{"SalesOrder"}`` and
``sap.s4.beh.businesspartner.v1.BusinessPartner.Changed.v1`` ``{"BusinessPartner"}``. Price and stock
changes emit nothing: S/4 has no event for them that a connector can rely on, so it polls.
"""
from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pricing_edge.domain import events
from pricing_edge.domain.credit import CreditRecord
from pricing_edge.domain.customers import CustomerRecord
from pricing_edge.domain.order_events import OrderEvent, SalesOrderChanged, ShipmentCreated
from pricing_edge.sim.erp.api import json_response
from pricing_edge.sim.erp.faces.odata.gateway import ODATA_ROOT, Gateway, Logon
from pricing_edge.sim.erp.faces.odata.server import ODataService
from pricing_edge.sim.erp.faces.s4hana import codes as c
from pricing_edge.sim.erp.faces.s4hana import services
from pricing_edge.sim.erp.faces.s4hana.codes import S4Codes
from pricing_edge.sim.erp.faces.s4hana.orders import SalesOrderWrites
from pricing_edge.sim.erp.faces.s4hana.rows import Rows
from pricing_edge.sim.erp.outbox import Outbox, OutboxEntry
from pricing_edge.sim.erp.sales_orders import SalesOrders, SimOrder
from pricing_edge.sim.erp.state import ErpState
from pricing_edge.sim.faults import SIM_PREFIX

FACE = "s4hana"
SOURCE = f"/default/sap.s4.beh/{c.SYSTEM}{c.CLIENT}"
SALES_ORDER_CREATED = "sap.s4.beh.salesorder.v1.SalesOrder.Created.v1"
SALES_ORDER_CHANGED = "sap.s4.beh.salesorder.v1.SalesOrder.Changed.v1"
PARTNER_CHANGED = "sap.s4.beh.businesspartner.v1.BusinessPartner.Changed.v1"
# Demo-only logon: anyone can read these here; a real system has its own.
DEMO_LOGON = Logon(user="PRICING_EDGE_DEMO", password="demo-s4-password", client=c.CLIENT,
                   oauth_client_id="pricing-edge-demo", oauth_client_secret="demo-s4-client-secret",
                   system=c.SYSTEM)


class S4Signals:
    """What the S/4 face tells the outside world: business events, never our own event types."""

    def __init__(self, outbox: Outbox, codes: S4Codes) -> None:
        self.outbox = outbox
        self.codes = codes

    def emit(self, record: events.Record) -> OutboxEntry | None:
        if isinstance(record, CustomerRecord):
            return self._partner(self.codes.person(record.customer_id))
        if isinstance(record, CreditRecord):  # a hold is the customer's order block
            return self._partner(self.codes.company_account(record.company_id))
        return None

    def emit_order(self, event: OrderEvent) -> OutboxEntry | None:
        number = event.order_number if isinstance(event, SalesOrderChanged) else event.shipment.order_number
        return self.sales_order(number, created=False)

    def sales_order(self, number: str, *, created: bool) -> OutboxEntry:
        sales_order = self.codes.sales_order(number)
        return self.outbox.emit_event(SALES_ORDER_CREATED if created else SALES_ORDER_CHANGED,
                                      {"SalesOrder": sales_order}, subject=f"salesorder:{sales_order}")

    def _partner(self, partner: str) -> OutboxEntry:
        return self.outbox.emit_event(PARTNER_CHANGED, {"BusinessPartner": partner}, subject=f"bp:{partner}")


@dataclass
class S4Face:
    gateway: Gateway
    codes: S4Codes
    signals: S4Signals

    def routes(self) -> list[Route]:
        async def mapping(request: Request) -> Response:
            return json_response(self.codes.demo_mapping())

        return [*self.gateway.routes(f"{SIM_PREFIX}/{FACE}"),
                Route(f"{SIM_PREFIX}/{FACE}/mapping", mapping, methods=["GET"])]


def build_face(state: ErpState, orders: SalesOrders, outbox: Outbox, *, logon: Logon = DEMO_LOGON,
               page_size: int = 1000) -> S4Face:
    codes = S4Codes(state)
    signals = S4Signals(outbox, codes)
    rows = Rows(state, orders, codes)
    order_service = services.sales_orders()
    writes = SalesOrderWrites(state, orders, codes, order_service)

    def changed(order: SimOrder, event: SalesOrderChanged | ShipmentCreated | None) -> None:
        signals.sales_order(order.number, created=event is None and order in writes.created)

    writes.on_change.append(changed)
    odata: dict[str, ODataService] = {}
    for service in services.all_services():
        if service.name == order_service.name:
            service = order_service
        providers = {name: provider for name, provider in rows.providers().items() if name in service.sets}
        if service is order_service:
            writes.wire(providers)
        odata[service.name] = ODataService(service, providers, root=f"{ODATA_ROOT}/{service.name}",
                                           page_size=page_size)
    return S4Face(Gateway(odata, logon, writes, writes.reply_delay), codes, signals)
