"""OData V2 entity definitions of a simulated vendor face, and the ``$metadata`` generated from them.

A face declares each entity set it serves — its type name, key, the properties it fills and the
navigation properties it can follow — as a *subset* of the vendor's real EDMX (a conformance test
compares the two). ``$metadata`` is built from these definitions, never read from the vendor's file,
so the simulator runs where the specs are not.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

EDMX_NS = "http://schemas.microsoft.com/ado/2007/06/edmx"
EDM_NS = "http://schemas.microsoft.com/ado/2008/09/edm"
META_NS = "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"

EDM_TYPES = frozenset({"Edm.String", "Edm.Decimal", "Edm.DateTime", "Edm.DateTimeOffset", "Edm.Boolean",
                       "Edm.Time", "Edm.Guid", "Edm.Int32", "Edm.Double"})


@dataclass(frozen=True)
class Prop:
    name: str
    type: str = "Edm.String"
    max_length: int | None = None
    precision: int | None = None
    scale: int | None = None
    nullable: bool = True
    concurrency: bool = False  # ConcurrencyMode="Fixed": the entity's ETag

    def __post_init__(self) -> None:
        if self.type not in EDM_TYPES:
            raise ValueError(f"{self.name}: unsupported EDM type {self.type}")


def s(name: str, max_length: int, nullable: bool = True) -> Prop:
    return Prop(name, "Edm.String", max_length=max_length, nullable=nullable)


def dec(name: str, precision: int, scale: int) -> Prop:
    return Prop(name, "Edm.Decimal", precision=precision, scale=scale)


def key(name: str, max_length: int) -> Prop:
    return Prop(name, "Edm.String", max_length=max_length, nullable=False)


def dt(name: str, nullable: bool = True) -> Prop:
    return Prop(name, "Edm.DateTime", precision=0, nullable=nullable)


def dto(name: str, concurrency: bool = False) -> Prop:
    return Prop(name, "Edm.DateTimeOffset", precision=7, concurrency=concurrency)


def flag(name: str) -> Prop:
    return Prop(name, "Edm.Boolean")


@dataclass(frozen=True)
class Nav:
    """A navigation property: ``on`` pairs this set's fields with the target set's fields."""

    name: str
    target: str
    many: bool
    on: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class EntitySet:
    name: str
    type_name: str
    key: tuple[str, ...]
    props: tuple[Prop, ...]
    navs: tuple[Nav, ...] = ()

    def __post_init__(self) -> None:
        names = [p.name for p in self.props]
        missing = [k for k in self.key if k not in names]
        if missing or len(set(names)) != len(names):
            raise ValueError(f"{self.name}: key {missing} not among its properties, or a property twice")

    @property
    def etag(self) -> Prop | None:
        """The concurrency property whose value is the entity's ETag (If-Match on change)."""
        return next((p for p in self.props if p.concurrency), None)

    def prop(self, name: str) -> Prop | None:
        return next((p for p in self.props if p.name == name), None)

    def nav(self, name: str) -> Nav | None:
        return next((n for n in self.navs if n.name == name), None)


@dataclass(frozen=True)
class FunctionImport:
    name: str
    http_method: str
    return_type: str | None = None
    params: tuple[Prop, ...] = ()


@dataclass
class Service:
    """One OData service (``API_SALES_ORDER_SRV``): its namespace is its name, as SAP's are."""

    name: str
    sets: dict[str, EntitySet] = field(default_factory=dict)
    functions: tuple[FunctionImport, ...] = ()
    version_suffix: str = ""  # ";v=0002" for services SAP versions in the path

    @classmethod
    def of(cls, name: str, sets: Iterable[EntitySet], functions: Iterable[FunctionImport] = ()) -> Service:
        service = cls(name, {entity.name: entity for entity in sets}, tuple(functions))
        for entity in service.sets.values():
            for nav in entity.navs:
                if nav.target not in service.sets:
                    raise ValueError(f"{entity.name}.{nav.name}: no entity set {nav.target} in {name}")
        return service

    def metadata_xml(self) -> bytes:
        ns = self.name
        types, associations, assoc_sets, sets = [], [], [], []
        for entity in self.sets.values():
            parts = ["<Key>", *(f"<PropertyRef Name={quoteattr(k)}/>" for k in entity.key), "</Key>"]
            for prop in entity.props:
                attrs = [f"Name={quoteattr(prop.name)}", f"Type={quoteattr(prop.type)}"]
                if not prop.nullable:
                    attrs.append('Nullable="false"')
                if prop.max_length is not None:
                    attrs.append(f'MaxLength="{prop.max_length}"')
                if prop.precision is not None:
                    attrs.append(f'Precision="{prop.precision}"')
                if prop.scale is not None:
                    attrs.append(f'Scale="{prop.scale}"')
                if prop.concurrency:
                    attrs.append('ConcurrencyMode="Fixed"')
                parts.append(f"<Property {' '.join(attrs)}/>")
            for nav in entity.navs:
                assoc = f"assoc_{entity.type_name}_{nav.name}"
                target = self.sets[nav.target]
                from_role, to_role = f"FromRole_{assoc}", f"ToRole_{assoc}"
                parts.append(f'<NavigationProperty Name="{nav.name}" Relationship="{ns}.{assoc}" '
                             f'FromRole="{from_role}" ToRole="{to_role}"/>')
                associations.append(
                    f'<Association Name="{assoc}">'
                    f'<End Type="{ns}.{entity.type_name}" Multiplicity="1" Role="{from_role}"/>'
                    f'<End Type="{ns}.{target.type_name}" Multiplicity="{"*" if nav.many else "0..1"}" '
                    f'Role="{to_role}"/></Association>')
                assoc_sets.append(
                    f'<AssociationSet Name="{assoc}" Association="{ns}.{assoc}">'
                    f'<End EntitySet="{entity.name}" Role="{from_role}"/>'
                    f'<End EntitySet="{target.name}" Role="{to_role}"/></AssociationSet>')
            types.append(f'<EntityType Name="{entity.type_name}">{"".join(parts)}</EntityType>')
            sets.append(f'<EntitySet Name="{entity.name}" EntityType="{ns}.{entity.type_name}"/>')
        functions = []
        for function in self.functions:
            returns = f' ReturnType="{function.return_type}"' if function.return_type else ""
            params = "".join(f'<Parameter Name="{p.name}" Type="{p.type}" Mode="In"/>' for p in function.params)
            functions.append(f'<FunctionImport Name="{function.name}"{returns} '
                             f'm:HttpMethod="{function.http_method}">{params}</FunctionImport>')
        xml = (
            f'<?xml version="1.0" encoding="utf-8"?>'
            f'<edmx:Edmx Version="1.0" xmlns:edmx="{EDMX_NS}" xmlns:m="{META_NS}">'
            f'<edmx:DataServices m:DataServiceVersion="2.0">'
            f'<Schema Namespace="{ns}" xml:lang="en" xmlns="{EDM_NS}">'
            f'{"".join(types)}{"".join(associations)}'
            f'<EntityContainer Name="{ns}_Entities" m:IsDefaultEntityContainer="true">'
            f'{"".join(sets)}{"".join(assoc_sets)}{"".join(functions)}</EntityContainer>'
            f'</Schema></edmx:DataServices></edmx:Edmx>'
        )
        return xml.encode()
