"""The simulated BigCommerce storefront (`pricing-edge sim bigcommerce`)."""
from pricing_edge.sim.storefront.app import create_app
from pricing_edge.sim.storefront.auth import customer_access_token

__all__ = ["create_app", "customer_access_token"]
