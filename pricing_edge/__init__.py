"""pricing-edge: a BigCommerce-compatible GraphQL edge over ERP truth, and the sync worker behind it."""
__version__ = "0.1.0"
