"""``pricing-edge erp check``: tells an operator, against the real ERP, what works before going live —
settings and mapping, logon, every entity the connector reads, every code the mapping names."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pricing_edge.config import Settings
from pricing_edge.erp.errors import ErpError
from pricing_edge.erp.mapping import MappingError
from pricing_edge.erp.registry import ConnectorNotAvailable, connector, open_erp


@dataclass
class CheckReport:
    connector: str
    steps: list[dict[str, str]] = field(default_factory=list)
    companies: list[dict[str, Any]] = field(default_factory=list)  # with customer-specific prices (S/4)

    def ok(self, what: str, detail: str = "") -> None:
        self.steps.append({"what": what, "result": "ok", "detail": detail})

    def fail(self, what: str, detail: str) -> None:
        self.steps.append({"what": what, "result": "FAIL", "detail": detail})

    @property
    def passed(self) -> bool:
        return all(step["result"] == "ok" for step in self.steps)

    def lines(self) -> list[str]:
        width = max((len(step["what"]) for step in self.steps), default=10)
        return [f"{step['result']:<4}  {step['what']:<{width}}  {step['detail']}".rstrip() for step in self.steps]


async def run_check(settings: Settings) -> CheckReport:
    report = CheckReport(settings.erp)
    try:
        chosen = connector(settings.erp)
        adapter = open_erp(settings)
    except (ConnectorNotAvailable, MappingError, ValueError) as exc:
        report.fail("settings and mapping", str(exc))
        return report
    report.ok("settings and mapping", f"{chosen.title}; mapping valid" if settings.erp_mapping else chosen.title)
    try:
        if chosen.name == "s4hana":
            from pricing_edge.erp.sap_s4.adapter import S4HanaAdapter
            from pricing_edge.erp.sap_s4.check import check

            assert isinstance(adapter, S4HanaAdapter)
            await check(adapter, report)
        else:
            await _check_generic(adapter, report)
    finally:
        await adapter.aclose()
    return report


async def _check_generic(adapter: Any, report: CheckReport) -> None:
    """Any connector: one read of each kind through the adapter protocol."""
    probes = (("customers", lambda: adapter.get_customer(1)), ("credit", lambda: adapter.get_credit(1)),
              ("stock", lambda: adapter.iter_stock().__anext__()),
              ("sales orders", lambda: adapter.find_sales_order("BC-check-0")))
    for what, probe in probes:
        try:
            await probe()
        except ErpError as exc:
            report.fail(f"read {what}", str(exc))
        except StopAsyncIteration:
            report.ok(f"read {what}", "empty")
        else:
            report.ok(f"read {what}")
