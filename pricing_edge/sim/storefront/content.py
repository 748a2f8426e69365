"""``site.content`` (web pages, the blog, scripts) and ``site.route``: what a storefront's router asks
for a URL path — the entity at that path, and any 301 redirect from it (``redirectBehavior: FOLLOW``
answers the redirect *and* the entity it leads to; ``IGNORE`` only the redirect and the entity, if any,
at the path itself). Paths match with or without their trailing slash; a redirect may name a query string.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from graphql import GraphQLError, GraphQLResolveInfo

from pricing_edge.sim.dataset import STORE_URL
from pricing_edge.sim.site_content import BlogPost, Redirect, WebPage
from pricing_edge.sim.storefront.connections import connection
from pricing_edge.sim.storefront.context import ctx, plain_text, when
from pricing_edge.sim.storefront.ids import global_id
from pricing_edge.sim.storefront.products import ProductRef

PAGE_TYPES = {"NORMAL": "NormalPage", "CONTACT": "ContactPage", "RAW": "RawHtmlPage", "BLOG": "BlogIndexPage",
              "LINK": "ExternalLinkPage"}
BLOG: dict[str, Any] = {"__typename": "Blog"}


def page_type(page: WebPage) -> str:
    return PAGE_TYPES[page.kind]


def _pages(info: GraphQLResolveInfo) -> list[WebPage]:
    return ctx(info).catalog.dataset.site.pages


def _sorted(pages: list[WebPage], sort_by: str | None) -> list[WebPage]:
    if sort_by == "SORT_ORDER":
        return sorted(pages, key=lambda p: (p.sort_order, p.id))
    if sort_by == "PARENT_ID_AND_SORT_ORDER_AND_TITLE":
        return sorted(pages, key=lambda p: (p.parent_id, p.sort_order, p.name))
    return sorted(pages, key=lambda p: p.id)


def _filtered(pages: list[WebPage], filters: dict[str, Any] | None) -> list[WebPage]:
    filters = filters or {}
    if filters.get("entityIds") is not None:
        pages = [p for p in pages if p.id in filters["entityIds"]]
    if filters.get("pageType") is not None:
        pages = [p for p in pages if p.kind == filters["pageType"]]
    if filters.get("isVisibleInNavigation") is not None:
        pages = [p for p in pages if p.visible_in_navigation == filters["isVisibleInNavigation"]]
    if filters.get("parentEntityIds") is not None:
        pages = [p for p in pages if p.parent_id in filters["parentEntityIds"]]
    return pages


def pages(_: Any, info: GraphQLResolveInfo, filters: dict[str, Any] | None = None, sortBy: str = "PAGE_ID",  # noqa: N803
          **args: Any) -> dict[str, Any]:
    return connection(_sorted(_filtered(_pages(info), filters), sortBy), args)


def children(page: WebPage, info: GraphQLResolveInfo, filters: dict[str, Any] | None = None,
             sortBy: str = "PAGE_ID", **args: Any) -> dict[str, Any]:  # noqa: N803
    return connection(_sorted(_filtered([p for p in _pages(info) if p.parent_id == page.id], filters), sortBy), args)


def page_breadcrumbs(page: WebPage, info: GraphQLResolveInfo, depth: int, **args: Any) -> dict[str, Any]:
    if depth < 0:
        raise GraphQLError("Argument 'depth' must be a non-negative integer")
    by_id = {p.id: p for p in _pages(info)}
    chain = [page]
    while chain[0].parent_id in by_id:
        chain.insert(0, by_id[chain[0].parent_id])
    chain = chain[-depth:] if depth else []
    return connection([{"entityId": p.id, "name": p.name, "path": p.path or None} for p in chain], args)


def blog(_: Any, info: GraphQLResolveInfo) -> dict[str, Any] | None:
    return BLOG if any(p.kind == "BLOG" for p in _pages(info)) else None


def _blog_page(info: GraphQLResolveInfo) -> WebPage:
    return next(p for p in _pages(info) if p.kind == "BLOG")


def blog_posts(_: Any, info: GraphQLResolveInfo, filters: dict[str, Any] | None = None, sort: str = "NEWEST",
               **args: Any) -> dict[str, Any]:
    posts = list(ctx(info).catalog.dataset.site.blog_posts)
    filters = filters or {}
    if filters.get("entityIds") is not None:
        posts = [p for p in posts if p.id in filters["entityIds"]]
    if filters.get("tags"):
        posts = [p for p in posts if set(p.tags) & set(filters["tags"])]
    posts.sort(key=lambda p: p.published, reverse=sort != "OLDEST")
    return connection(posts, args)


def _post(info: GraphQLResolveInfo, entity_id: int) -> BlogPost | None:
    return next((p for p in ctx(info).catalog.dataset.site.blog_posts if p.id == entity_id), None)


def scripts(_: Any, info: GraphQLResolveInfo, filters: dict[str, Any] | None = None, **args: Any) -> dict[str, Any]:
    found = list(ctx(info).catalog.dataset.site.scripts)
    filters = filters or {}
    if filters.get("visibilities"):
        found = [s for s in found if s.visibility in filters["visibilities"]]
    if filters.get("consentCategories"):
        found = [s for s in found if s.consent_category in filters["consentCategories"]]
    if filters.get("location"):
        found = [s for s in found if s.location == filters["location"]]
    return connection([{"__typename": s.kind, "entityId": s.id, "consentCategory": s.consent_category,
                        "visibility": s.visibility, "location": s.location,
                        "integrityHashes": [{"hash": h} for h in s.integrity_hashes],
                        "scriptTag" if s.kind == "InlineScript" else "src": s.body} for s in found], args)


def node_of_content(kind: str, entity_id: int, info: GraphQLResolveInfo) -> Any:
    """``node(id:)`` for web pages and blog posts."""
    if kind in PAGE_TYPES.values():
        return next((p for p in _pages(info) if p.id == entity_id and page_type(p) == kind), None)
    if kind == "BlogPost":
        return _post(info, entity_id)
    return None


# -- route ------------------------------------------------------------------------------------------

def _split(path: str) -> tuple[str, str]:
    parts = urlsplit(path if path.startswith("/") else "/" + path)
    return parts.path, parts.query


def _same(a: str, b: str) -> bool:
    return a.rstrip("/").lower() == b.rstrip("/").lower()


def entity_at(path: str, info: GraphQLResolveInfo) -> Any:
    """What lives at a path (query string ignored), as this buyer may see it; None if nothing."""
    c = ctx(info)
    bare, _ = _split(path)
    product = next((p for p in c.catalog.products(c.buyer) if _same(p.path, bare)), None)
    if product is not None:
        return ProductRef(product)
    category = next((x for x in c.catalog.categories(c.buyer) if _same(x.path, bare)), None)
    if category is not None:
        return category
    brand = next((b for b in c.catalog.dataset.brands if _same(b.path, bare)), None)
    if brand is not None:
        return brand
    page = next((p for p in _pages(info) if p.path and _same(p.path, bare)), None)
    if page is not None:
        return BLOG if page.kind == "BLOG" else page
    return next((p for p in c.catalog.dataset.site.blog_posts if _same(p.path, bare)), None)


def _target(redirect: Redirect, info: GraphQLResolveInfo) -> tuple[dict[str, Any], Any, str]:
    """The redirect's ``to`` (a RedirectTo member), the entity it leads to, and the full destination URL."""
    c = ctx(info)
    if redirect.to_kind == "Manual":
        internal = redirect.to_url.startswith("/")
        url = STORE_URL + redirect.to_url if internal else redirect.to_url
        return {"__typename": "ManualRedirect", "url": redirect.to_url}, entity_at(redirect.to_url, info) if internal \
            else None, url
    entity: Any = None
    path = ""
    if redirect.to_kind == "Product":
        product = c.catalog.product(redirect.to_id, c.buyer)
        entity, path = (ProductRef(product), product.path) if product else (None, "")
    elif redirect.to_kind == "Category":
        category = c.catalog.category(redirect.to_id, c.buyer)
        entity, path = (category, category.path) if category else (None, "")
    elif redirect.to_kind == "Brand":
        brand = next((b for b in c.catalog.dataset.brands if b.id == redirect.to_id), None)
        entity, path = (brand, brand.path) if brand else (None, "")
    elif redirect.to_kind == "Page":
        page = next((p for p in _pages(info) if p.id == redirect.to_id), None)
        entity, path = (page, page.path) if page else (None, "")
    elif redirect.to_kind == "BlogPost":
        post = _post(info, redirect.to_id)
        entity, path = (post, post.path) if post else (None, "")
    to = {"__typename": f"{redirect.to_kind}Redirect", "id": global_id(redirect.to_kind, redirect.to_id),
          "entityId": redirect.to_id, "path": path}
    return to, entity, STORE_URL + path


def route(_: Any, info: GraphQLResolveInfo, path: str, redirectBehavior: str = "IGNORE") -> dict[str, Any]:  # noqa: N803
    bare, query = _split(path)
    redirects = ctx(info).catalog.dataset.site.redirects
    found = next((r for r in redirects if query and _same(r.from_path, f"{bare}?{query}")), None) or \
        next((r for r in redirects if "?" not in r.from_path and _same(r.from_path, bare)), None)
    if found is None:
        return {"node": entity_at(path, info), "redirect": None}
    to, entity, url = _target(found, info)
    if not to.get("path", True) and to["__typename"] != "ManualRedirect":  # leads to nothing this buyer may see
        return {"node": None, "redirect": None}
    redirect = {"id": global_id("Redirect", found.id), "fromPath": found.from_path, "to": to, "toUrl": url}
    return {"node": entity if redirectBehavior == "FOLLOW" else entity_at(path, info), "redirect": redirect}


def _seo(page: WebPage) -> dict[str, str]:
    return {"pageTitle": page.seo_title, "metaDescription": page.seo_description, "metaKeywords": ""}


PAGE_FIELDS: dict[str, Any] = {  # bound on every page type that has the field
    "id": lambda p, i: global_id(page_type(p), p.id),
    "entityId": lambda p, i: p.id,
    "parentEntityId": lambda p, i: p.parent_id or None,
    "breadcrumbs": page_breadcrumbs,
    "isVisibleInNavigation": lambda p, i: p.visible_in_navigation,
    "seo": lambda p, i: _seo(p),
    "children": children,
    "htmlBody": lambda p, i: p.html_body,
    "plainTextSummary": lambda p, i, characterLimit=120: plain_text(p.html_body, characterLimit),
    "contactFields": lambda p, i: list(p.contact_fields),
}
CONTENT: dict[tuple[str, str], Any] = {
    ("Site", "content"): lambda _, i: {},
    ("Site", "route"): route,
    ("Content", "pages"): pages,
    ("Content", "page"): lambda _, i, entityId: next((p for p in _pages(i) if p.id == entityId), None),
    ("Content", "blog"): blog,
    ("Content", "scripts"): scripts,
    ("Blog", "id"): lambda b, i: global_id("Blog", _blog_page(i).id),
    ("Blog", "name"): lambda b, i: _blog_page(i).name,
    ("Blog", "description"): lambda b, i: "News, guides and how-tos from the trade counter.",
    ("Blog", "path"): lambda b, i: _blog_page(i).path,
    ("Blog", "isVisibleInNavigation"): lambda b, i: _blog_page(i).visible_in_navigation,
    ("Blog", "posts"): blog_posts,
    ("Blog", "post"): lambda b, i, entityId: _post(i, entityId),
    ("BlogPost", "id"): lambda p, i: global_id("BlogPost", p.id),
    ("BlogPost", "entityId"): lambda p, i: p.id,
    ("BlogPost", "tags"): lambda p, i: list(p.tags),
    ("BlogPost", "htmlBody"): lambda p, i: p.html_body,
    ("BlogPost", "plainTextSummary"): lambda p, i, characterLimit=120: plain_text(p.html_body, characterLimit),
    ("BlogPost", "publishedDate"): lambda p, i: when(p.published),
    ("BlogPost", "thumbnailImage"): lambda p, i: None,
    ("BlogPost", "seo"): lambda p, i: {"pageTitle": p.name, "metaDescription": "", "metaKeywords": ", ".join(p.tags)},
}
