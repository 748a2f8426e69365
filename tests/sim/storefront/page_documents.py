"""Documents for what a whole storefront asks beyond product pages: routes, content, settings, the
category tree, brands, product options, reviews, faceted search, checkout and login. Written as
storefronts write them; test_conformance validates each against BigCommerce's schema and the simulator's."""
from __future__ import annotations

ROUTE = """
query Route($path: String!, $behavior: RouteRedirectBehavior = IGNORE) {
  site {
    route(path: $path, redirectBehavior: $behavior) {
      redirect {
        id
        fromPath
        toUrl
        to {
          __typename
          ... on ProductRedirect { entityId path }
          ... on CategoryRedirect { entityId path }
          ... on BrandRedirect { entityId path }
          ... on PageRedirect { entityId path }
          ... on BlogPostRedirect { entityId path }
          ... on ManualRedirect { url }
        }
      }
      node {
        __typename
        id
        ... on Product { entityId sku prices { price { value } } }
        ... on Category { entityId name }
        ... on Brand { entityId name }
        ... on NormalPage { entityId name }
        ... on RawHtmlPage { entityId htmlBody }
        ... on Blog { name path }
        ... on BlogPost { entityId name }
      }
    }
  }
}
"""

CONTENT = """
query Content($filters: WebPagesFiltersInput, $sortBy: WebPageSortInput = PAGE_ID, $scripts: ScriptsFilters) {
  site {
    content {
      pages(filters: $filters, sortBy: $sortBy) {
        edges {
          node {
            __typename
            entityId
            parentEntityId
            name
            isVisibleInNavigation
            breadcrumbs(depth: 5) { edges { node { entityId name } } }
            children { edges { node { entityId } } }
            ... on NormalPage { path plainTextSummary(characterLimit: 20) }
            ... on ContactPage { path contactFields }
            ... on ExternalLinkPage { link }
          }
        }
      }
      blog {
        name
        path
        posts { edges { node { entityId name tags publishedDate { utc } } } }
        post(entityId: 2) { name }
      }
      scripts(filters: $scripts) {
        edges { node { __typename entityId visibility consentCategory location ... on SrcScript { src } } }
      }
    }
  }
}
"""

STORE = """
query Store($currencyCode: currencyCode) {
  channel { entityId }
  site {
    settings {
      status
      storeName
      logoV2 { __typename ... on StoreImageLogo { image { urlTemplate(lossy: true) altText } } }
      url { vanityUrl checkoutUrl }
      privacy { cookieConsentEnabled privacyPolicyUrl }
      inventory { stockLevelDisplay defaultOutOfStockMessage showOutOfStockMessage }
      shipping { supportedShippingDestinations { countries { code statesOrProvinces { abbreviation } } } }
      giftCertificates(currencyCode: $currencyCode) {
        __typename
        currencyCode
        isEnabled
        ... on FixedAmountGiftCertificateSettings { amounts { value currencyCode } }
      }
      storefront { catalog { productComparisonsEnabled } }
      tax { pdp plp }
      seo { pageTitle }
    }
    currencies { edges { node { code isDefault isTransactional exchangeRate display { symbol symbolPlacement } } } }
    eur: currency(currencyCode: EUR) { name }
  }
  geography { countries(filters: {code: "CA"}) { name statesOrProvinces { abbreviation } } }
}
"""

CATEGORIES_AND_BRANDS = """
query Navigation($root: Int, $category: Int!, $productIds: [Int!] = []) {
  site {
    tree: categoryTree(rootEntityId: $root) {
      entityId name path productCount hasChildren
      image { urlTemplate }
      children { entityId name children { entityId name } }
    }
    category(entityId: $category) {
      name
      seo { pageTitle }
      defaultImage { altText }
      breadcrumbs(depth: 5) { edges { node { entityId name path } } }
    }
    brands(first: 50, productEntityIds: $productIds) {
      edges { node { entityId name path searchKeywords defaultImage { urlTemplate } seo { pageTitle } } }
    }
  }
}
"""

COLLECTIONS = """
query Collections {
  site {
    featuredProducts(first: 50) { collectionInfo { totalItems } edges { node { entityId } } }
    newestProducts(first: 5) { edges { node { entityId } } }
    bestSellingProducts(first: 5) { edges { node { entityId } } }
  }
}
"""

OPTIONS = """
query Options($entityId: Int!, $optionValueIds: [OptionValueId!], $useDefaults: Boolean) {
  site {
    product(entityId: $entityId, optionValueIds: $optionValueIds, useDefaultOptionSelections: $useDefaults) {
      sku
      prices { price { value } priceRange { min { value } max { value } } }
      weight { value unit }
      productOptions(first: 20) {
        edges {
          node {
            __typename
            entityId
            displayName
            isRequired
            isVariantOption
            ... on MultipleChoiceOption {
              displayStyle
              values(first: 10) {
                edges {
                  node {
                    __typename
                    entityId
                    label
                    isDefault
                    isSelected
                    ... on SwatchOptionValue { hexColors }
                    ... on ProductPickListOptionValue { productId defaultImage { altText } }
                  }
                }
              }
            }
            ... on CheckboxOption { checkedByDefault label checkedOptionValueEntityId uncheckedOptionValueEntityId }
            ... on NumberFieldOption { defaultValue lowest highest isIntegerOnly limitNumberBy }
            ... on TextFieldOption { maxLength minLength }
            ... on MultiLineTextFieldOption { maxLines }
            ... on DateFieldOption { earliest latest limitDateBy }
            ... on FileUploadFieldOption { maxFileSize fileTypes }
          }
        }
      }
    }
  }
}
"""

REVIEWS = """
query Reviews($entityId: Int!, $first: Int, $after: String, $sort: ProductReviewsSortInput,
              $filters: ProductReviewsFiltersInput) {
  site {
    product(entityId: $entityId) {
      reviewSummary { numberOfReviews averageRating summationOfRatings }
      reviews(first: $first, after: $after, sort: $sort, filters: $filters) {
        pageInfo { hasNextPage endCursor }
        edges { node { entityId rating title author { name } createdAt { utc } } }
      }
    }
  }
}
"""

FACETED_SEARCH = """
query Faceted($filters: SearchProductsFiltersInput!, $sort: SearchProductsSortInput) {
  site {
    search {
      searchProducts(filters: $filters, sort: $sort) {
        products(first: 50) { collectionInfo { totalItems } edges { node { entityId } } }
        filters {
          edges {
            node {
              __typename
              name
              ... on CategorySearchFilter {
                categories(first: 20) {
                  edges {
                    node {
                      entityId isSelected productCount
                      subCategories(first: 5) {
                        edges { node { entityId productCount subCategories(first: 2) { edges { node { entityId productCount } } } } }
                      }
                    }
                  }
                }
              }
              ... on BrandSearchFilter { brands { edges { node { entityId isSelected productCount } } } }
              ... on ProductAttributeSearchFilter { filterName attributes { edges { node { value isSelected productCount } } } }
              ... on RatingSearchFilter { ratings { edges { node { value isSelected productCount } } } }
              ... on PriceSearchFilter { selected { minPrice maxPrice } }
              ... on OtherSearchFilter {
                freeShipping { isSelected productCount }
                isFeatured { isSelected productCount }
                isInStock { isSelected productCount }
              }
            }
          }
        }
      }
    }
  }
}
"""

CHECKOUT = """
fragment Amount on Money { currencyCode value }
query Checkout($cartId: String) {
  site {
    cart(entityId: $cartId) {
      baseAmount { ...Amount } discountedAmount { ...Amount } amount { ...Amount }
      discounts { entityId discountedAmount { ...Amount } }
      lineItems {
        physicalItems {
          entityId quantity
          listPrice { ...Amount } originalPrice { ...Amount } salePrice { ...Amount }
          extendedListPrice { ...Amount } extendedSalePrice { ...Amount }
          discountedAmount { ...Amount } couponAmount { ...Amount }
          selectedOptions {
            __typename entityId name
            ... on CartSelectedMultipleChoiceOption { value valueEntityId }
            ... on CartSelectedCheckboxOption { value valueEntityId }
            ... on CartSelectedNumberFieldOption { number }
            ... on CartSelectedTextFieldOption { text }
            ... on CartSelectedMultiLineTextFieldOption { text }
            ... on CartSelectedDateFieldOption { date { utc } }
          }
        }
        giftCertificates { entityId name amount { ...Amount } theme }
        totalQuantity
      }
    }
    checkout(entityId: $cartId) {
      entityId
      subtotal { ...Amount } grandTotal { ...Amount } taxTotal { ...Amount } outstandingBalance { ...Amount }
      shippingCostTotal { ...Amount } handlingCostTotal { ...Amount }
      taxes { name amount { ...Amount } }
      coupons { code couponType discountedAmount { ...Amount } }
      giftCertificates { code balance { ...Amount } used { ...Amount } remaining { ...Amount } }
      shippingConsignments {
        entityId lineItemIds
        address { countryCode stateOrProvinceCode postalCode }
        availableShippingOptions { entityId description cost { ...Amount } isRecommended }
        selectedShippingOption { entityId cost { ...Amount } }
        shippingCost { ...Amount } handlingCost { ...Amount }
      }
    }
  }
}
"""

ADD_CONSIGNMENT = """
mutation AddConsignment($input: AddCheckoutShippingConsignmentsInput!) {
  checkout { addCheckoutShippingConsignments(input: $input) { checkout { entityId shippingConsignments { entityId } } } }
}
"""

SELECT_SHIPPING = """
mutation SelectShipping($input: SelectCheckoutShippingOptionInput!) {
  checkout { selectCheckoutShippingOption(input: $input) { checkout { entityId } } }
}
"""

APPLY_COUPON = """
mutation ApplyCoupon($input: ApplyCheckoutCouponInput!) {
  checkout { applyCheckoutCoupon(input: $input) { checkout { coupons { code } } } }
}
"""

UNAPPLY_COUPON = """
mutation UnapplyCoupon($input: UnapplyCheckoutCouponInput!) {
  checkout { unapplyCheckoutCoupon(input: $input) { checkout { coupons { code } } } }
}
"""

APPLY_GIFT_CERTIFICATE = """
mutation ApplyGiftCertificate($input: ApplyCheckoutGiftCertificateInput!) {
  checkout { applyCheckoutGiftCertificate(input: $input) { checkout { giftCertificates { code } } } }
}
"""

CART_WITH_OPTIONS = """
mutation CreateCartWithOptions($input: CreateCartInput!) {
  cart {
    createCart(input: $input) {
      cart {
        entityId
        version
        currencyCode
        lineItems {
          physicalItems { entityId variantEntityId quantity selectedOptions { __typename entityId name } }
          giftCertificates { name amount { value } }
          totalQuantity
        }
      }
    }
  }
}
"""

ADD_WITH_VERSION = """
mutation AddWithVersion($input: AddCartLineItemsInput!) {
  cart { addCartLineItems(input: $input) { cart { version lineItems { physicalItems { entityId quantity } } } } }
}
"""

UPDATE_CURRENCY = """
mutation UpdateCurrency($input: UpdateCartCurrencyInput!) {
  cart { updateCartCurrency(input: $input) { cart { currencyCode amount { currencyCode value } } } }
}
"""

LOGIN = """
mutation Login($email: String!, $password: String!, $guestCartEntityId: String) {
  login(email: $email, password: $password, guestCartEntityId: $guestCartEntityId) {
    result
    customer { entityId email }
    cart { entityId }
    customerAccessToken { value expiresAt }
  }
}
"""

LOGOUT = """
mutation Logout($cartEntityId: String) {
  logout(cartEntityId: $cartEntityId) {
    result
    cartUnassignResult { cart { entityId } errors { __typename ... on CartUnassignInaccessibleError { message } } }
  }
}
"""

WISHLISTS = """
query Wishlists($productId: Int!) {
  customer {
    wishlists(first: 10, filters: {productEntityIds: [$productId]}) {
      edges { node { entityId name isPublic items(first: 10) { edges { node { productEntityId product { entityId } } } } } }
    }
  }
}
"""

PAGE_DOCUMENTS: dict[str, str] = {
    name: value for name, value in dict(globals()).items()
    if name.isupper() and isinstance(value, str) and ("query " in value or "mutation " in value)
}
