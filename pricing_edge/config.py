"""Configuration: environment variables ``PRICING_EDGE_<NAME>``, one field of :class:`Settings` each.

Each field has one type, one default and one description (the README's configuration table says the
same). Values are parsed and checked once, when a command starts (:meth:`Settings.from_env`, which reads
the environment through pydantic-settings): a bad one stops it with a :class:`SettingsError` naming the
variable, the value and what it accepts — never a bare ``ValueError`` from deep inside, never a negative
TTL accepted. ``Settings`` is a (pydantic) dataclass: ``Settings(...)`` takes keywords and ignores the
environment, and ``dataclasses.replace(settings, ...)`` is a copy checked and parsed like the environment.
"""
from __future__ import annotations

import base64
import binascii
import difflib
import ipaddress
import os
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic.dataclasses import dataclass
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, SettingsConfigDict

from pricing_edge.domain.scope import PriceListAssignments

ENV_PREFIX = "PRICING_EDGE_"
DEFAULT_SEED = 7  # the simulators' demo store

# Obviously demo-only credentials: the simulators accept them and nothing else does.
DEMO_STOREFRONT_TOKEN = "demo-storefront-token"
DEMO_IMPERSONATION_TOKEN = "demo-impersonation-token"
DEMO_ADMIN_TOKEN = "demo-admin-token"
DEMO_CLIENT_SECRET = "demo-client-secret"  # the BigCommerce app's client secret: signs its webhooks
DEMO_STORE_HASH = "demo"
DEMO_OPS_TOKEN = "demo-ops-token-public"  # the demo's worker accepts it (as "demo"); nothing else does


def listed(value: str | None) -> list[str]:
    """A secret or token setting's values: several, comma-separated, while one is being rotated (every one
    listed is accepted; the first is the one this process signs or sends with)."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]

# Read by the test suite, not by any command: not settings, so never reported as unknown.
TEST_ONLY_VARIABLES = frozenset({"PRICING_EDGE_TEST_REDIS_URL", "PRICING_EDGE_SPECS_DIR", "PRICING_EDGE_CLIENTS_DIR",
                                 "PRICING_EDGE_REQUIRE_SPECS"})


class SettingsError(ValueError):
    """Bad configuration: one line per problem, each naming its variable and what it accepts."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def variable(name: str) -> str:
    """The environment variable of a field: ``price_ttl`` → ``PRICING_EDGE_PRICE_TTL``."""
    return ENV_PREFIX + name.upper()


# --- value types: how one variable's text becomes a checked value ----------------------------------------

def _url(schemes: tuple[str, ...]) -> Any:
    def check(value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in schemes or not (parts.netloc or parts.scheme == "unix"):
            raise ValueError(f"must be a URL starting with {' or '.join(s + '://' for s in schemes)}")
        return value
    return AfterValidator(check)


def _matching(pattern: str, accepts: str) -> Any:
    def check(value: str) -> str:
        if not re.fullmatch(pattern, value):
            raise ValueError(accepts)
        return value
    return AfterValidator(check)


def _whsec(value: str) -> str:
    """One whsec_<base64> secret, or several comma-separated while one is being rotated."""
    for one in listed(value) or [value]:
        body = one.removeprefix("whsec_")
        try:
            decoded = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            decoded = b""
        if not one.startswith("whsec_") or not decoded:
            raise ValueError("must be whsec_ followed by base64 (Standard Webhooks; several comma-separated "
                             "during a rotation), e.g. from `python -c \"import base64, os; "
                             "print('whsec_' + base64.b64encode(os.urandom(32)).decode())\"`")
    return value


def _header(value: str) -> str:
    from pricing_edge.intake.bigcommerce_webhooks import header_values  # the one parser of it

    try:
        header_values(value)
    except ValueError:
        raise ValueError("must be 'Name: value' ('Name: new,old' while the value is rotated)") from None
    return value


def _comma_list(value: Any) -> Any:
    return [item.strip() for item in value.split(",") if item.strip()] if isinstance(value, str) else value


def _network(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address or CIDR block (e.g. 10.0.0.0/8)") from None
    return value


def _assignments(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return dict(PriceListAssignments.parse(value, 0).by_group)
    except ValueError:
        raise ValueError("must be customer_group:price_list pairs separated by commas, "
                         "e.g. 0:1,1:2") from None


def _id_pairs(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    pairs = [item.strip().split(":") for item in value.split(",") if item.strip()]
    if not all(len(pair) == 2 and all(part.strip().isdigit() for part in pair) for pair in pairs):
        raise ValueError("must be erp_location:bigcommerce_location id pairs separated by commas, e.g. 1:1,2:5")
    return {int(erp): int(bc) for erp, bc in pairs}


def _rate(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    requests, slash, seconds = value.partition("/")
    try:
        parsed = int(requests), float(seconds)
    except ValueError:
        parsed = (0, 0.0)
    if not slash or parsed[0] <= 0 or parsed[1] <= 0:
        raise ValueError("must be requests/seconds with both above 0, e.g. 150/30")
    return parsed


Url = Annotated[str, _url(("http", "https"))]
RedisUrl = Annotated[str, _url(("redis", "rediss", "unix", "redis+cluster", "rediss+cluster"))]
Text = Annotated[str, Field(min_length=1)]  # a name or token: empty is a mistake, not "none"
Seconds = Annotated[float, Field(gt=0)]
Milliseconds = Annotated[float, Field(ge=0)]
Positive = Annotated[int, Field(ge=1)]
Currency = Annotated[str, _matching(r"[A-Z]{3}", "must be a three-letter ISO 4217 code in capitals, "
                                                  "e.g. USD")]
Currencies = Annotated[tuple[Currency, ...], NoDecode, BeforeValidator(_comma_list), Field(min_length=1),
                       PlainSerializer(",".join, when_used="json")]
Assignments = Annotated[dict[int, int], NoDecode, BeforeValidator(_assignments),
                        PlainSerializer(lambda v: ",".join(f"{g}:{p}" for g, p in v.items()),
                                        when_used="json")]
IdPairs = Annotated[dict[int, int], NoDecode, BeforeValidator(_id_pairs),
                    PlainSerializer(lambda v: ",".join(f"{a}:{b}" for a, b in v.items()), when_used="json")]
RateLimit = Annotated[tuple[int, float], NoDecode, BeforeValidator(_rate),
                      PlainSerializer(lambda v: f"{v[0]}/{v[1]:g}", when_used="json")]
Flag = Annotated[bool, PlainSerializer(lambda v: "1" if v else "0", when_used="json")]
Networks = Annotated[tuple[Annotated[str, AfterValidator(_network)], ...], NoDecode, BeforeValidator(_comma_list),
                     PlainSerializer(",".join, when_used="json")]
ChannelIds = Annotated[tuple[Positive, ...], NoDecode, BeforeValidator(_comma_list),
                      PlainSerializer(lambda v: ",".join(map(str, v)), when_used="json")]
Spaceless = Annotated[str, _matching(r"\S*", "must not contain spaces")]
StoreHash = Annotated[str, _matching(r"[A-Za-z0-9_-]+", "must be letters, digits, - or _")]
Header = Annotated[str, AfterValidator(_header)]
Secret = Annotated[str, AfterValidator(_whsec)]

# What each kind of pydantic error means to someone setting a variable.
_ACCEPTS = {
    "bool_parsing": "must be a boolean: 1/0, true/false, yes/no or on/off",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "string_too_short": "must not be empty",
    "too_short": "must list at least one",
}


@dataclass(frozen=True, config=ConfigDict(extra="forbid", validate_default=True))
class Settings:
    """Every setting of every command. Attribute ``x`` is the variable ``PRICING_EDGE_X``."""

    # --- where things are -------------------------------------------------------------------------
    redis_url: RedisUrl | None = Field(None, description="Redis for the store; unset: the embedded "
                                                         "in-process store, which keeps nothing")
    upstream_url: Url = Field("http://127.0.0.1:8081/graphql",
                              description="the BigCommerce Storefront GraphQL endpoint the edge fronts")
    erp_url: Url = Field("http://127.0.0.1:8082", description="the ERP (simulator) base URL")
    worker_url: Url = Field("http://127.0.0.1:8083",
                            description="the worker's ops API, for `pricing-edge ops`")
    events_url: Url | None = Field(None, description="where the ERP simulator sends its signed change events")
    event_secret: Secret | None = Field(None, description="whsec_<base64> secret that signs ERP events")
    schema_cache: Text = Field(".pricing-edge/upstream-schema.json",
                               description="where the introspected upstream schema is kept")
    trusted_proxy_secret: str | None = Field(None, description="sent upstream as X-BC-Trusted-Proxy-Secret")
    trusted_proxies: Networks = Field((), description="addresses or CIDR blocks of the proxies in front of the "
                                                      "edge whose True-Client-IP header is believed")

    # --- the simulators ---------------------------------------------------------------------------
    seed: Annotated[int, Field(ge=0)] = Field(DEFAULT_SEED, description="seed of the simulators' demo store")
    sim_skus: Annotated[int, Field(ge=0)] = Field(0, description="the simulators' catalog size in SKUs (10 price "
                                                         "lists, 2 currencies, 5,000 category pages); 0: the "
                                                         "small demo store")
    storefront_token: Text = Field(DEMO_STOREFRONT_TOKEN, description="storefront token the BigCommerce "
                                                                      "simulator accepts")
    impersonation_token: Text = Field(DEMO_IMPERSONATION_TOKEN, description="customer-impersonation token")
    bc_latency_ms: Milliseconds = Field(150.0, description="the BigCommerce simulator's normal latency")
    bc_rate_limit: RateLimit = Field((150, 30.0), description="the BigCommerce simulator's REST quota "
                                                              "(requests/seconds)")
    erp_latency_ms: Milliseconds = Field(20.0, description="the ERP simulator's normal latency")
    erp_ticker_rate: Annotated[float, Field(ge=0)] = Field(0.0, description="random ERP changes per second")

    # --- the storefront: channel, currencies, price lists -----------------------------------------
    channel_id: Positive = Field(1, description="the BigCommerce channel the edge serves by default")
    channels: ChannelIds = Field((), description="more channels the edge serves, comma-separated ids (a request "
                                                 "is a channel's when its Host is store-{hash}-{id}.…)")
    currency: Currency = Field("USD", description="the channel's default currency (ISO 4217), until "
                                                  "BigCommerce's currency assignments are read")
    currencies: Currencies = Field(("USD", "EUR"), description="currencies the store sells in when BigCommerce "
                                                               "cannot say (warm, sync), comma-separated")
    price_lists: Assignments = Field({0: 1, 1: 2, 2: 3, 3: 4, 4: 5, 5: 6},
                                     description="price-list assignments, customer_group:price_list pairs, "
                                                 "until BigCommerce's are read (cold-start fallback)")
    assignments_refresh: Seconds = Field(300.0, description="seconds between reads of BigCommerce's price-list "
                                                            "and currency assignments (a webhook reads sooner)")
    default_price_list: Positive = Field(1, description="price list for groups without an assignment")

    # --- the edge: freshness, budgets, breakers ---------------------------------------------------
    price_ttl: Seconds = Field(60.0, description="seconds a price record stays in the in-process cache")
    stock_ttl: Seconds = Field(10.0, description="seconds a stock record stays in the in-process cache")
    answer_cache_mb: Annotated[float, Field(gt=0)] = Field(64.0, description="megabytes (estimated) of kept "
                                                           "answers (bytes with holes) per edge process; least "
                                                           "recently used dropped first")
    l1_max_mb: Annotated[float, Field(gt=0)] = Field(128.0, description="megabytes (estimated) the in-process "
                                                     "cache of price and stock records may hold; least recently "
                                                     "used evicted first")
    skeleton_cache_mb: Annotated[float, Field(gt=0)] = Field(32.0, description="megabytes (estimated) of "
                                                             "BigCommerce's catalog answers kept in process, as "
                                                             "bytes; least recently used dropped first")
    catalog_index_mb: Annotated[float, Field(gt=0)] = Field(16.0, description="megabytes (estimated) of the "
                                                            "products, variants and visibility learned from "
                                                            "BigCommerce's answers; least recently used first")
    listing_cache_mb: Annotated[float, Field(gt=0)] = Field(32.0, description="megabytes (estimated) of listings' "
                                                            "memberships kept in process; least recently used first")
    catalog_ttl: Seconds = Field(300.0,
                                 description="seconds BigCommerce's catalog answer for a scope is reused")
    buyer_ttl: Seconds = Field(60.0, description="seconds a token → buyer → scope resolution is reused")
    erp_timeout: Seconds = Field(5.0, description="seconds before an ERP call fails")
    upstream_timeout: Seconds = Field(5.0, description="seconds before an upstream call fails")
    erp_budget_ms: Milliseconds = Field(150.0, description="how long a request waits for an ERP read of a "
                                                           "missing record")
    upstream_budget_ms: Annotated[float, Field(gt=0)] = Field(
        2500.0, description="how long a query waits for BigCommerce in all (token check and document) "
                            "before its 503")
    unknown_tokens_per_minute: Positive = Field(
        30, description="storefront or customer access tokens not seen before that one client may have "
                        "checked upstream per minute; past it, a 429 without an upstream call")
    refused_documents_per_minute: Positive = Field(
        10, description="documents one client may have refused by the document budget per minute (per edge "
                        "process); past it, its requests are held a second and refused with a 429 before "
                        "their body is read")
    breaker_threshold: Positive = Field(5, description="failures before a circuit breaker opens")
    breaker_reset: Seconds = Field(10.0, description="seconds before an open breaker lets one probe through")
    warm_at_start: Flag = Field(False, description="each edge process runs `pricing-edge warm` in the "
                                                   "background when it starts")
    credit_ttl: Seconds = Field(60.0, description="seconds company credit is fresh")
    credit_max_age: Seconds = Field(900.0, description="how old credit may be and still allow on-account "
                                                       "checkout while the ERP is unreachable")
    reservation_ttl: Seconds = Field(1800.0, description="seconds a cart's soft stock reservation lives")
    redis_down_stock_factor: Annotated[float, Field(ge=1)] = Field(
        5.0, description="while Redis is unreachable, add-to-cart passes only where last known stock "
                         "covers the quantity this many times")
    cart_prices: Flag = Field(True, description="set each cart line's price to the buyer's ERP price through "
                                                "BigCommerce's server-to-server cart API (list_price)")
    cart_price_budget: Seconds = Field(5.0, description="seconds a cart mutation may wait out REST rate limits "
                                                        "while setting line prices before it fails with an error")
    redis_prefix: Spaceless = Field("pe:", description="prefix of every Redis key")
    redis_timeout: Seconds = Field(2.0, description="seconds a Redis connect, command or pool wait may take "
                                                    "before it counts as down")
    require_durable: Flag = Field(False,
                                  description="refuse to start unless Redis runs with AOF and noeviction")

    # --- BigCommerce REST Admin and webhooks (the worker's side) ----------------------------------
    admin_url: Url = Field("http://127.0.0.1:8081", description="BigCommerce REST Admin base "
                                                                "(stands for https://api.bigcommerce.com)")
    store_hash: StoreHash = Field(DEMO_STORE_HASH,
                                  description="the store hash in REST paths and order references")
    admin_token: Text = Field(DEMO_ADMIN_TOKEN, description="REST Admin X-Auth-Token")
    client_secret: str | None = Field(None, description="the app's client secret: webhooks are verified with "
                                                        "base64 of it")
    webhook_header: Header | None = Field(None, description="'Name: value' set at registration and required "
                                                           "on every webhook; 'Name: new,old' during a rotation")
    webhook_destination: Url | None = Field(None,
                                            description="the worker registers its webhooks there at start")
    dedup_ttl: Seconds = Field(7 * 24 * 3600.0,
                               description="seconds delivery and routing dedup keys are kept")

    # --- the worker -------------------------------------------------------------------------------
    worker_concurrency: Positive = Field(8,
                                         description="entities one worker process handles at once, per flow")
    worker_lease_ttl: Seconds = Field(10.0, description="seconds a worker holds an entity without renewing")
    worker_max_attempts: Positive = Field(5,
                                          description="unexpected errors before a message is dead-lettered")
    worker_retry_base: Seconds = Field(1.0, description="seconds: first retry's backoff")
    worker_retry_cap: Seconds = Field(60.0, description="seconds: longest retry backoff")
    worker_give_up_after: Seconds = Field(24 * 3600.0, description="seconds a message may keep failing "
                                                                   "transiently before it is dead-lettered")
    order_document_type: Text = Field("SO", description="the ERP document type orders are posted as")
    order_poll_interval: Seconds = Field(60.0, description="seconds between polls of BigCommerce for orders "
                                                            "modified since the last (orders whose webhook never came)")
    order_poll_lookback: Seconds = Field(24 * 3600.0, description="seconds the first order poll reaches back")
    hook_check_interval: Seconds = Field(300.0, description="seconds between checks that our webhooks are active "
                                                            "(re-activated if BigCommerce deactivated them)")
    bc_sync: Flag = Field(True, description="the worker pushes the ERP's prices and stock into BigCommerce "
                                            "(off: another tool owns BigCommerce's price lists and inventory)")
    bc_sync_batch: Annotated[int, Field(ge=1, le=1000)] = Field(
        1000, description="records per write when the worker pushes the ERP's prices and stock into BigCommerce "
                          "(at most 1,000: BigCommerce's limit for price-list records)")
    inventory_locations: IdPairs = Field({}, description="erp_location:bigcommerce_location id pairs for the "
                                                         "inventory sync; empty: the same ids")

    # --- stopping: SIGTERM/SIGINT to exit, whatever the process is doing (runtime.Grace) -----------
    shutdown_grace: Seconds = Field(10.0, description="seconds from SIGTERM to exit: in-flight requests get "
                                                      "half, background loops a quarter, then the process exits")

    # --- ops: who may use the worker's /ops/*, and what the CLI sends ------------------------------
    ops_tokens: Text | None = Field(None, description="name:token pairs, comma-separated, allowed to use /ops/* "
                                                      "(unset: nobody; the demo sets its own)")
    ops_token: Text = Field(DEMO_OPS_TOKEN, description="the token `pricing-edge ops` sends")
    ops_session_ttl: Seconds = Field(12 * 3600.0, description="seconds a dashboard login lasts")

    # --- the ERP connector: which one, its mapping document, its change source --------------------
    erp: Text = Field("sim", description="the ERP connector: sim or s4hana (b1, bc, fo, netsuite, acumatica: "
                                         "not available yet; refused when a command opens the ERP)")
    erp_mapping: Text | None = Field(None, description="path of the connector's mapping document (JSON)")
    erp_poll_interval: Seconds = Field(5.0, description="change source: seconds between delta polls")
    erp_poll_overlap: Annotated[float, Field(ge=0)] = Field(
        60.0, description="seconds each delta poll reads back before its cursor (late commits)")
    erp_full_read_interval: Annotated[float, Field(ge=0)] = Field(
        300.0, description="seconds between full re-reads of what has no change timestamp (0: every poll)")
    erp_signal_auth: Text | None = Field(None, description="'user:password' a vendor's event push may use "
                                                           "(Basic) on /events/erp/signals")

    # --- SAP S/4HANA (PRICING_EDGE_ERP=s4hana; PRICING_EDGE_ERP_URL is the system's base URL) -----
    s4_user: Text | None = Field(None, description="S/4HANA Basic logon (a communication user)")
    s4_password: Text | None = Field(None, description="its password")
    s4_token_url: Url | None = Field(None, description="set: OAuth client credentials instead of Basic")
    s4_client_id: Text | None = Field(None, description="OAuth client id")
    s4_client_secret: Text | None = Field(None, description="OAuth client secret")
    s4_sap_client: Text | None = Field(None, description="the sap-client sent on every call")
    s4_sales_organization: Text = Field("1710", description="the sales organization")
    s4_distribution_channel: Text = Field("10", description="the distribution channel")
    s4_division: Text = Field("00", description="the division")
    s4_company_code: Text = Field("1710", description="the company code whose open items make a balance")
    s4_condition_type: Text = Field("PPR0", description="the one condition type read as the price")
    s4_price_list_field: Literal["PriceListType", "CustomerPriceGroup"] = Field(
        "PriceListType", description="the condition key field that names a price list")
    s4_rejection_reason: Text = Field("61", description="the rejection reason set on a cancelled order's items")
    s4_order_conditions: Text = Field(
        "discount=RB00,order_discount=HB00,shipping=ZSHP,handling=ZHDL,wrapping=ZWRP,fee=ZFEE,tax=ZTAX",
        description="kind=condition type pairs for what an order carries besides the price (manual, fixed amounts)")

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.worker_retry_cap < self.worker_retry_base:
            raise ValueError(f"{variable('worker_retry_cap')} ({self.worker_retry_cap:g}) must be at least "
                             f"{variable('worker_retry_base')} ({self.worker_retry_base:g})")
        return self

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """The settings in ``env`` (default: the process environment), then ``overrides`` that are not None.
        Raises SettingsError naming every bad variable."""
        values = dict(_Environment(env)())
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except ValidationError as exc:
            raise SettingsError([_problem(error, values) for error in exc.errors()]) from None

    def to_env(self) -> dict[str, str]:
        """These settings as the ``PRICING_EDGE_*`` variables that :meth:`from_env` reads back (for a child
        process); unset ones are left out."""
        dumped: dict[str, Any] = TypeAdapter(Settings).dump_python(self, mode="json")
        return {variable(name): str(value) for name, value in dumped.items() if value is not None}

    @property
    def assignments(self) -> PriceListAssignments:
        """Customer group → price list on the channel, and the default for every other group."""
        return PriceListAssignments(self.price_lists, self.default_price_list)


def setting_fields() -> dict[str, FieldInfo]:
    """Every setting's field: its type, default and description."""
    fields: dict[str, FieldInfo] = Settings.__pydantic_fields__  # type: ignore[attr-defined]
    return dict(fields)


class _Variables(BaseSettings):
    """How the environment is read: prefix, empty means unset (pydantic-settings' conventions)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_ignore_empty=True)


# The same fields as Settings, for pydantic-settings to read from the environment (values are checked by Settings).
_FIELDS: dict[str, Any] = {name: (info.annotation, info) for name, info in setting_fields().items()}
_VariablesOfSettings = create_model("_VariablesOfSettings", __base__=_Variables, **_FIELDS)


class _Environment(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping (tests, child processes) or os.environ."""

    def __init__(self, env: Mapping[str, str] | None) -> None:
        self._mapping = os.environ if env is None else env
        super().__init__(_VariablesOfSettings)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {key.lower(): value for key, value in self._mapping.items() if value != ""}


def _problem(error: ErrorDetails, values: Mapping[str, Any]) -> str:
    """One line: the variable, its value and what it accepts (and what the variable is for)."""
    message = error["msg"].removeprefix("Value error, ")
    if not error["loc"]:  # a rule across fields names its variables itself
        return message
    name = str(error["loc"][0])
    accepts = _ACCEPTS.get(error["type"]) or message.replace("Input should", "must")
    if error["type"] == "extra_forbidden":
        return f"{name!r} is not a setting"
    field = setting_fields().get(name)
    meaning = f" ({field.description})" if field and field.description else ""
    return f"{variable(name)}={values.get(name)!r}: {accepts}{meaning}"


def unknown_variables(env: Mapping[str, str]) -> list[str]:
    """``PRICING_EDGE_*`` variables in ``env`` that no setting reads (a misspelt one is silently ignored
    otherwise), each with the nearest real name."""
    known = {variable(name) for name in setting_fields()} | TEST_ONLY_VARIABLES
    lines = []
    for key in sorted(k for k in env if k.upper().startswith(ENV_PREFIX) and k.upper() not in known):
        nearest = difflib.get_close_matches(key.upper(), sorted(known), n=1)
        hint = f" (did you mean {nearest[0]}?)" if nearest else ""
        lines.append(f"{key} is not a pricing-edge setting{hint}")
    return lines

