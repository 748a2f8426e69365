"""Which answers may be shared within a scope: only those that provably reach nothing but the catalog.

An answer is shared (response cache, catalog skeletons, one computation for concurrent askers) only
if every object type it selects on a concrete path is on ``CATALOG_TYPES`` and every ``__typename``
the upstream returned at an abstract position (``node``, ``route.node``, unions) is on it too.
Anything else is answered for this buyer alone. The list is an *allow*-list: a type BigCommerce adds
tomorrow (or one we forgot) is personal until someone reads it and adds it here — never the reverse.

Judging by field names alone missed ``node(id:)`` reaching a ``Cart``, ``Checkout``, ``Order`` or
``OrderWithPayments`` (all ``Node`` types; order ids are guessable). Judging by reachable types alone
would make every route lookup personal, since ``Route.node`` is a ``Node`` that *could* be a cart:
hence the split between the static check (concrete selections) and the runtime check (what came back).
"""
from __future__ import annotations

from graphql import GraphQLAbstractType, GraphQLSchema

# The catalog: the same for every buyer of one visibility scope (customer group and channel), whose
# only buyer-dependent values are the prices and stock the edge itself overlays per price list.
_CATALOG_ENTITIES = {
    # the roots a catalog document walks
    "Query", "Site", "Channel", "Store", "Geography", "Country", "StateOrProvince", "Region",
    # products and their parts (prices and stock are the edge's own, computed for the scope)
    "Product", "ProductConnection", "ProductEdge", "Variant", "VariantConnection", "VariantEdge",
    "Prices", "Money", "MoneyRange", "PriceRanges", "BulkPricingFixedPriceDiscount",
    "BulkPricingPercentageDiscount", "BulkPricingRelativePriceDiscount", "ProductInventory",
    "VariantInventory", "AggregatedInventory", "Aggregated", "InventoryByLocations", "LocationConnection",
    "LocationEdge", "Measurement", "Image", "ImageConnection", "ImageEdge", "Video", "VideoConnection",
    "VideoEdge", "CustomField", "CustomFieldConnection", "CustomFieldEdge", "ProductOption",
    "ProductOptionConnection", "ProductOptionEdge", "ProductOptionValue", "ProductOptionValueConnection",
    "ProductOptionValueEdge", "OptionConnection", "OptionEdge", "OptionValueConnection", "OptionValueEdge",
    "CheckboxOption", "DateFieldOption", "FileUploadFieldOption", "MultiLineTextFieldOption",
    "MultipleChoiceOption", "MultipleChoiceOptionValue", "NumberFieldOption", "TextFieldOption",
    "ProductPickListOptionValue", "SwatchOptionValue", "ProductAvailable", "ProductPreOrder",
    "ProductUnavailable", "RelatedProductsConnection", "RelatedProductsEdge", "Review", "ReviewConnection",
    "ReviewEdge", "Reviews", "Author", "SeoDetails", "DateTimeExtended", "Metafields", "MetafieldConnection",
    "MetafieldEdge", "GiftWrapping", "GiftWrappingConnection", "GiftWrappingEdge",
    # categories, brands, search and its facets
    "Category", "CategoryConnection", "CategoryEdge", "CategoryTreeItem", "Breadcrumb", "BreadcrumbConnection",
    "BreadcrumbEdge", "Brand", "BrandConnection", "BrandEdge", "PopularBrandConnection", "PopularBrandEdge",
    "PopularBrandType", "SearchQueries", "SearchProducts", "SearchProductFilterConnection",
    "SearchProductFilterEdge", "BrandSearchFilter", "BrandSearchFilterItem", "BrandSearchFilterItemConnection",
    "BrandSearchFilterItemEdge", "CategorySearchFilter", "CategorySearchFilterItem",
    "CategorySearchFilterItemConnection", "CategorySearchFilterItemEdge", "SubCategorySearchFilterItem",
    "SubCategorySearchFilterItemConnection", "SubCategorySearchFilterItemEdge", "OtherSearchFilter",
    "OtherSearchFilterItem", "PriceSearchFilter", "PriceSearchFilterItem", "ProductAttributeSearchFilter",
    "ProductAttributeSearchFilterItem", "ProductAttributeSearchFilterItemConnection",
    "ProductAttributeSearchFilterItemEdge", "RatingSearchFilter", "RatingSearchFilterItem",
    "RatingSearchFilterItemConnection", "RatingSearchFilterItemEdge", "CollectionInfo", "PageInfo",
    "ShopByPriceConnection", "ShopByPriceEdge", "ShopByPriceRange",
    # routes, redirects and content pages (the route's node is checked at run time, like any Node)
    "Route", "Redirect", "ManualRedirect", "ProductRedirect", "BrandRedirect", "BlogPostRedirect",
    "CategoryRedirect", "PageRedirect", "Content", "Blog", "BlogIndexPage", "BlogPost", "BlogPostConnection",
    "BlogPostEdge", "ContactPage", "NormalPage", "RawHtmlPage", "ExternalLinkPage", "PageConnection",
    "PageEdge", "Banner", "Banners", "BannerConnection", "BannerEdge", "BrandPageBannerConnection",
    "BrandPageBannerEdge", "CategoryPageBannerConnection", "CategoryPageBannerEdge", "RenderedRegionsByPageType",
    "ScriptTypeConnection", "ScriptTypeEdge", "InlineScript", "SrcScript", "ScriptHash",
    # the store's settings: one answer for every visitor of the channel
    "Settings", "Catalog", "Storefront", "Currency", "CurrencyConnection", "CurrencyEdge", "CurrencyDisplay",
    "CurrencySettings", "Locale", "ContactField", "DisplayField", "UrlField", "LogoField", "StoreImageLogo",
    "StoreTextLogo", "SocialMediaLink", "InventorySettings", "CheckoutSettings", "CustomersSettings",
    "TaxDisplaySettings", "PrivacySettings", "SecuritySettings", "HstsSettings", "InactivitySettings",
    "PasswordComplexitySettings", "ReCaptchaSettings", "WebAnalytics", "GA4Provider", "MetaPixelProvider",
    "SegmentProvider", "Shipping", "SupportedShippingDestinations", "Search",
    "CustomAmountGiftCertificateSettings", "FixedAmountGiftCertificateSettings", "GiftCertificateExpirySettings",
    "FormFields", "FormFieldOption", "CheckboxesFormField", "DateFormField", "MultilineTextFormField",
    "NumberFormField", "PasswordFormField", "PicklistFormField", "PicklistOrTextFormField",
    "RadioButtonsFormField", "TextFormField",
    # the store's pickup locations and opening hours (not a shopper's)
    "Inventory", "InventoryLocation", "InventoryLocationConnection", "InventoryLocationEdge", "InventoryAddress",
    "Distance", "OperatingHours", "OperatingDay", "SpecialHour",
}
# Deliberately absent (personal, answered per buyer): Customer and everything under it (addresses,
# wishlists, attributes, our B2BCredit), Cart, Checkout, Order, OrderWithPayments and their parts,
# GiftCertificate, PublicWishlist, ShopperPreferences (the shopper's own currency and locale choice),
# payment instruments, every mutation result.
CATALOG_TYPES: frozenset[str] = frozenset(_CATALOG_ENTITIES)


def is_catalog(type_name: str) -> bool:
    """On the allow-list, or an introspection type (``__Schema``, ``__Type``…: the schema, the same for all)."""
    return type_name in CATALOG_TYPES or type_name.startswith("__")


def always_catalog(schema: GraphQLSchema, abstract: GraphQLAbstractType) -> bool:
    """Every type ``abstract`` may resolve to is catalog: then even an empty (null) answer is shareable.
    ``Node`` is not: a null ``node(id:)`` may be another buyer's cart, which this buyer would see."""
    return all(is_catalog(t.name) for t in schema.get_possible_types(abstract))
