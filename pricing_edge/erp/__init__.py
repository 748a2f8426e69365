"""ERP adapters: the protocol every connector implements, its errors, and the simulator's adapter."""
from pricing_edge.erp.errors import ErpBadResponse, ErpError, ErpRejected, ErpUnavailable
from pricing_edge.erp.protocol import ErpAdapter

__all__ = ["ErpAdapter", "ErpBadResponse", "ErpError", "ErpRejected", "ErpUnavailable"]
