"""Sort and filter listings by the buyer\x27s own price: membership from BigCommerce, prices from the records."""
