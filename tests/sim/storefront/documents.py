"""Every GraphQL document the storefront simulator's tests send, by name, written the way storefronts
(Catalyst, Stencil themes, headless builds) write them: named operations, fragments, variables,
aliases, directives. test_conformance validates each against BigCommerce's real schema and the
simulator's; the other tests send them and check the answers' shapes and values."""
from __future__ import annotations

from tests.sim.storefront.page_documents import PAGE_DOCUMENTS

MONEY = """
fragment MoneyFields on Money {
  currencyCode
  value
  formattedV2
}
"""

BULK_TIERS = """
fragment BulkPricingTierFields on BulkPricingTier {
  __typename
  minimumQuantity
  maximumQuantity
  ... on BulkPricingFixedPriceDiscount {
    price
  }
  ... on BulkPricingPercentageDiscount {
    percentOff
  }
  ... on BulkPricingRelativePriceDiscount {
    priceAdjustment
  }
}
"""

PRICES = MONEY + BULK_TIERS + """
fragment PricesFields on Prices {
  price { ...MoneyFields }
  basePrice { ...MoneyFields }
  salePrice { ...MoneyFields }
  retailPrice { ...MoneyFields }
  mapPrice { ...MoneyFields }
  saved { ...MoneyFields }
  priceRange { min { ...MoneyFields } max { ...MoneyFields } }
  retailPriceRange { min { ...MoneyFields } max { ...MoneyFields } }
  bulkPricing { ...BulkPricingTierFields }
}
"""

# A product detail page: the product, its variants with their options, prices with bulk tiers.
PRODUCT_PAGE = PRICES + """
query ProductPage($entityId: Int!, $currencyCode: currencyCode, $includeTax: Boolean = false) {
  site {
    product(entityId: $entityId) {
      __typename
      id
      entityId
      name
      sku
      path
      plainTextDescription(characterLimit: 60)
      warranty
      addToCartUrl
      showCartAction
      type
      upc
      mpn
      minPurchaseQuantity
      maxPurchaseQuantity
      availabilityV2 {
        __typename
        status
        description
      }
      brand { entityId name path }
      defaultImage { url(width: 640) urlOriginal altText isDefault }
      images(first: 5) { edges { node { url(width: 320, height: 320) altText isDefault } } }
      customFields { edges { node { entityId name value } } }
      categories { edges { node { entityId name path } } }
      prices(currencyCode: $currencyCode, includeTax: $includeTax) { ...PricesFields }
      inventory {
        isInStock
        hasVariantInventory
        aggregated { availableToSell warningLevel }
      }
      variants(first: 50) {
        pageInfo { hasNextPage endCursor }
        edges {
          node {
            __typename
            id
            entityId
            sku
            isPurchasable
            options(first: 5) {
              edges {
                node {
                  entityId
                  displayName
                  isRequired
                  values(first: 5) { edges { node { entityId label } } }
                }
              }
            }
            prices(currencyCode: $currencyCode, includeTax: $includeTax) { ...PricesFields }
            inventory { isInStock aggregated { availableToSell warningLevel } }
          }
        }
      }
      relatedProducts(first: 4) { edges { node { entityId name path } } }
    }
  }
}
"""

# A category (product listing) page: 24 product cards built from named fragments.
CATEGORY_PAGE = MONEY + BULK_TIERS + """
query CategoryPage($categoryId: Int!, $after: String, $sortBy: CategoryProductSort) {
  site {
    category(entityId: $categoryId) {
      entityId
      name
      path
      products(first: 24, after: $after, sortBy: $sortBy) {
        pageInfo { ...PageInfoFields }
        collectionInfo { totalItems }
        edges {
          cursor
          node { ...ProductCardFields }
        }
      }
    }
  }
}

fragment PageInfoFields on PageInfo {
  hasNextPage
  hasPreviousPage
  startCursor
  endCursor
}

fragment ProductCardFields on Product {
  entityId
  name
  path
  sku
  brand { ...BrandFields }
  defaultImage { ...ImageFields }
  prices { ...CardPricesFields }
  inventory { ...CardInventoryFields }
}

fragment BrandFields on Brand {
  name
  path
}

fragment ImageFields on Image {
  url(width: 500)
  altText
}

fragment CardPricesFields on Prices {
  price { ...MoneyFields }
  basePrice { ...MoneyFields }
  salePrice { ...MoneyFields }
  retailPrice { ...MoneyFields }
  priceRange { min { ...MoneyFields } max { ...MoneyFields } }
  retailPriceRange { min { ...MoneyFields } max { ...MoneyFields } }
  bulkPricing { ...BulkPricingTierFields }
}

fragment CardInventoryFields on ProductInventory {
  isInStock
  aggregated { availableToSell warningLevel }
}
"""

# Search results with the facets a faceted-search page renders (brand, category, price).
SEARCH_WITH_FACETS = """
query Search($filters: SearchProductsFiltersInput!, $sort: SearchProductsSortInput) {
  site {
    search {
      searchProducts(filters: $filters, sort: $sort) {
        products(first: 50) {
          collectionInfo { totalItems }
          pageInfo { hasNextPage }
          edges {
            node {
              entityId
              name
              brand { entityId }
              categories { edges { node { entityId } } }
              prices { price { currencyCode value } }
            }
          }
        }
        filters {
          edges {
            node {
              __typename
              name
              displayName
              isCollapsedByDefault
              ... on BrandSearchFilter {
                displayProductCount
                brands { edges { node { entityId name isSelected productCount } } }
              }
              ... on CategorySearchFilter {
                displayProductCount
                categories { edges { node { entityId name isSelected productCount } } }
              }
              ... on PriceSearchFilter {
                selected { minPrice maxPrice }
              }
            }
          }
        }
      }
    }
  }
}
"""

# Compare page: several products by id; `entityId`, `name` and `prices.price` are selected both by a
# fragment and directly, and must merge into one key each, in the order of their first selection.
COMPARE_BY_IDS = """
query Compare($entityIds: [Int!]!) {
  site {
    products(entityIds: $entityIds, first: 5) {
      edges {
        node {
          ...CompareCard
          entityId
          name
          prices {
            price { value formattedV2 }
          }
          sku
        }
      }
    }
  }
}

fragment CompareCard on Product {
  entityId
  name
  prices {
    price { currencyCode value }
    basePrice { value }
  }
  brand { name }
}
"""

# One product's price in two currencies (and tax-inclusive) in one request, by alias.
PRICES_IN_CURRENCIES = """
query PricesInCurrencies($entityId: Int!) {
  site {
    product(entityId: $entityId) {
      entityId
      usd: prices(currencyCode: USD) { price { currencyCode value formattedV2 } }
      eur: prices(currencyCode: EUR) { price { currencyCode value formattedV2 } }
      usdWithTax: prices(currencyCode: USD, includeTax: true) { price { currencyCode value formattedV2 } }
      variants(first: 10) {
        edges {
          node {
            sku
            usd: prices(currencyCode: USD) { price { value formattedV2 } }
            eur: prices(currencyCode: EUR) { price { value formattedV2 } }
          }
        }
      }
    }
  }
}
"""

# A product card whose parts the page switches on and off with variables.
CARD_WITH_DIRECTIVES = """
query Card($entityId: Int!, $withPrices: Boolean!, $hideStock: Boolean!, $withBrand: Boolean = false) {
  site {
    product(entityId: $entityId) {
      entityId
      prices @include(if: $withPrices) { price { value } }
      inventory @skip(if: $hideStock) { isInStock }
      ...BrandPart @include(if: $withBrand)
      ... @skip(if: $hideStock) {
        sku
      }
      name
    }
  }
}

fragment BrandPart on Product {
  brand { name }
}
"""

# Relay-style lookups by BigCommerce's global ids, for a product and a variant.
NODES = """
query Nodes($productId: ID!, $variantId: ID!) {
  product: node(id: $productId) {
    __typename
    id
    ... on Product {
      entityId
      name
      prices { price { value } }
    }
  }
  variant: node(id: $variantId) {
    __typename
    id
    ... on Variant {
      entityId
      sku
      prices { price { value } basePrice { value } }
      inventory { aggregated { availableToSell } }
    }
  }
}
"""

# The variant a shopper's option choices select (Catalyst's product form).
VARIANT_BY_OPTIONS = """
query VariantByOptions($entityId: Int!, $optionValueIds: [OptionValueId!] = []) {
  site {
    product(entityId: $entityId) {
      entityId
      variants(first: 50, optionValueIds: $optionValueIds) {
        edges {
          node {
            entityId
            sku
            options(first: 5) { edges { node { entityId displayName values(first: 5) { edges { node { entityId label } } } } } }
          }
        }
      }
    }
  }
}
"""

# Lists that leave out what is out of stock when the page asks them to.
IN_STOCK_ONLY = """
query InStockOnly($entityId: Int!, $entityIds: [Int!], $categoryId: Int!, $term: String, $hide: Boolean) {
  site {
    product(entityId: $entityId) {
      relatedProducts(hideOutOfStock: $hide) { edges { node { entityId inventory { isInStock } } } }
    }
    products(entityIds: $entityIds, hideOutOfStock: $hide) { edges { node { entityId } } }
    category(entityId: $categoryId) {
      products(first: 50, hideOutOfStock: $hide) { edges { node { entityId } } }
    }
    search {
      searchProducts(filters: {searchTerm: $term, hideOutOfStock: $hide}) {
        products { edges { node { entityId } } }
      }
    }
  }
}
"""

# Stock per warehouse of each variant (a "check store stock" widget).
VARIANT_STOCK = """
query VariantStock($entityId: Int!, $locationCodes: [String!] = [], $locationTypes: [String!] = []) {
  site {
    product(entityId: $entityId) {
      entityId
      inventory { isInStock aggregated { availableToSell warningLevel } }
      variants(first: 50) {
        edges {
          node {
            entityId
            sku
            inventory {
              isInStock
              aggregated { availableToSell warningLevel }
              byLocation(locationEntityCodes: $locationCodes, locationEntityTypeIds: $locationTypes) {
                edges {
                  node {
                    locationEntityId
                    locationEntityCode
                    locationEntityTypeId
                    availableToSell
                    warningLevel
                    isInStock
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}
"""

# The signed-in customer (Catalyst's account menu).
CUSTOMER = """
query Customer {
  customer {
    entityId
    firstName
    lastName
    email
    phone
    company
    customerGroupId
    customerGroupName
  }
}
"""

# A product's price and who the buyer is, in one request (how the auth tests tell buyers apart).
PRICE_FOR_BUYER = """
query PriceForBuyer($entityId: Int!) {
  customer { entityId customerGroupId }
  site {
    product(entityId: $entityId) {
      entityId
      prices { price { currencyCode value } }
    }
  }
}
"""

# One product's price in a currency the page chose.
PRICE_IN_CURRENCY = """
query PriceInCurrency($entityId: Int!, $currencyCode: currencyCode) {
  site {
    product(entityId: $entityId) {
      entityId
      prices(currencyCode: $currencyCode) { price { currencyCode value } }
    }
  }
}
"""

# The same product found by sku and by variant id (a quick-order form).
PRODUCT_LOOKUPS = """
query Lookups($sku: String!, $variantEntityId: Int!) {
  bySku: site { product(sku: $sku) { entityId sku } }
  byVariant: site { product(variantEntityId: $variantEntityId) { entityId sku } }
}
"""

# Plain product paging, as an infinite-scroll or a sync job pages.
PRODUCTS_PAGE = """
query ProductsPage($first: Int, $after: String, $last: Int, $before: String) {
  site {
    products(first: $first, after: $after, last: $last, before: $before) {
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      collectionInfo { totalItems }
      edges { cursor node { entityId } }
    }
  }
}
"""

STORE_SETTINGS = """
query StoreSettings {
  site { settings { storeName storeHash channelId } }
}
"""

CART = MONEY + """
fragment CartFields on Cart {
  __typename
  id
  entityId
  currencyCode
  isTaxIncluded
  amount { ...MoneyFields }
  baseAmount { ...MoneyFields }
  lineItems {
    totalQuantity
    physicalItems {
      entityId
      productEntityId
      variantEntityId
      sku
      name
      quantity
      listPrice { ...MoneyFields }
      salePrice { ...MoneyFields }
      extendedSalePrice { ...MoneyFields }
    }
  }
}
"""

CREATE_CART = CART + """
mutation CreateCart($lineItems: [CartLineItemInput!], $currencyCode: String) {
  cart {
    createCart(input: {lineItems: $lineItems, currencyCode: $currencyCode}) {
      cart { ...CartFields }
    }
  }
}
"""

ADD_CART_LINE_ITEMS = CART + """
mutation AddCartLineItems($cartEntityId: String!, $lineItems: [CartLineItemInput!]) {
  cart {
    addCartLineItems(input: {cartEntityId: $cartEntityId, data: {lineItems: $lineItems}}) {
      cart { ...CartFields }
    }
  }
}
"""

UPDATE_CART_LINE_ITEM = CART + """
mutation UpdateCartLineItem($cartEntityId: String!, $lineItemEntityId: String!, $lineItem: CartLineItemInput) {
  cart {
    updateCartLineItem(input: {cartEntityId: $cartEntityId, lineItemEntityId: $lineItemEntityId,
                               data: {lineItem: $lineItem}}) {
      cart { ...CartFields }
    }
  }
}
"""

DELETE_CART_LINE_ITEM = CART + """
mutation DeleteCartLineItem($cartEntityId: String!, $lineItemEntityId: String!) {
  cart {
    deleteCartLineItem(input: {cartEntityId: $cartEntityId, lineItemEntityId: $lineItemEntityId}) {
      deletedLineItemEntityId
      deletedCartEntityId
      cart { ...CartFields }
    }
  }
}
"""

DELETE_CART = """
mutation DeleteCart($cartEntityId: String!) {
  cart {
    deleteCart(input: {cartEntityId: $cartEntityId}) {
      deletedCartEntityId
    }
  }
}
"""

GET_CART = CART + """
query GetCart($cartEntityId: String) {
  site {
    cart(entityId: $cartEntityId) { ...CartFields }
  }
}
"""


def deep_document(depth: int) -> str:
    """A valid query exactly ``depth`` fields deep (site → product → relatedProducts → edges → node → …)."""

    def product_selection(remaining: int) -> str:
        if remaining == 1:
            return "entityId"
        if remaining == 2:
            return "brand { name }"
        if remaining == 3:
            return "relatedProducts(first: 1) { edges { cursor } }"
        return "relatedProducts(first: 1) { edges { node { " + product_selection(remaining - 3) + " } } }"

    assert depth >= 3
    return "query Deep($entityId: Int!) { site { product(entityId: $entityId) { " + product_selection(depth - 2) + " } } }"


DOCUMENTS: dict[str, str] = {
    name: value for name, value in dict(globals()).items()
    if name.isupper() and isinstance(value, str) and ("query " in value or "mutation " in value)
}
DOCUMENTS.update(PAGE_DOCUMENTS)
"""Every complete operation document above, by name (test_conformance validates them all)."""
