"""Whole model rows joined along foreign keys, from one SELECT composed once per process.

For the few statements on the hottest paths (the API token on every call; in a booking,
the locked request, the counselor by name and the audit chain's seal), where the ORM
composing a `select_related` query costs more than running it. The statement is built
from the models' own metadata, once per database vendor; each row goes through the same
field converters the ORM would apply and comes back as model instances
(`Model.from_db`), fresh from the database on every call: nothing is cached but the SQL
text.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models
from django.db.transaction import TransactionManagementError


@dataclass(frozen=True)
class Table:
    """One model in the statement. `join` is how it joins the ones before it, with
    `{table}` for its quoted table name (empty for the first)."""

    alias: str
    model: type[models.Model]
    join: str = ""


@dataclass
class JoinedSelect:
    """`SELECT <every column of every table> FROM … WHERE <where>` (which may end in
    ORDER BY and LIMIT), optionally locking the first table's rows (`FOR UPDATE OF` on
    PostgreSQL; SQLite's write transaction already excludes every other writer)."""

    tables: tuple[Table, ...]
    where: str
    lock_first: bool = False
    _compiled: dict[str, tuple[str, list]] = field(default_factory=dict, repr=False)

    def _statement(self) -> tuple[str, list]:
        """(SQL, per table: its model, attribute names and each column's converters)."""
        if self.lock_first and connection.get_autocommit():
            raise TransactionManagementError("a locking read needs a transaction")
        vendor = connection.vendor
        if vendor not in self._compiled:
            qn = connection.ops.quote_name
            columns, specs = [], []
            for table in self.tables:
                fields = list(table.model._meta.concrete_fields)
                columns += [f"{table.alias}.{qn(f.column or f.attname)}" for f in fields]
                cols = [f.get_col(table.alias) for f in fields]
                converters = [
                    [(c, convert) for convert in connection.ops.get_db_converters(c)]
                    + [(c, convert) for convert in c.get_db_converters(connection)]
                    for c in cols
                ]
                pk_at = next(i for i, f in enumerate(fields) if f.primary_key)
                specs.append((table.model, [f.attname for f in fields], converters, pk_at))
            first, *rest = self.tables
            sql = " ".join(
                [
                    f"SELECT {', '.join(columns)}",
                    f"FROM {qn(first.model._meta.db_table)} {first.alias}",
                    *(t.join.format(table=qn(t.model._meta.db_table)) for t in rest),
                    f"WHERE {self.where}",
                ]
            )
            if self.lock_first and connection.features.has_select_for_update_of:
                sql += f" FOR UPDATE OF {first.alias}"
            self._compiled[vendor] = (sql, specs)
        return self._compiled[vendor]

    def first(self, params: list[Any]) -> list[Any] | None:
        """The first row as one instance per table (None for a LEFT JOIN that found
        nothing), or None when no row matches."""
        sql, specs = self._statement()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return None if row is None else _instances(row, specs)

    def all(self, params: list[Any]) -> list[list[Any]]:
        """Every row, each as `first` gives it."""
        sql, specs = self._statement()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return [_instances(row, specs) for row in rows]


def _instances(row: tuple, specs: list) -> list[Any]:
    built: list[Any] = []
    at = 0
    for model, attnames, converters, pk_at in specs:
        raw = row[at : at + len(attnames)]
        at += len(attnames)
        if raw[pk_at] is None:  # no row joined
            built.append(None)
            continue
        values = []
        for column_converters, value in zip(converters, raw, strict=True):
            for col, convert in column_converters:
                value = convert(value, col, connection)
            values.append(value)
        built.append(model.from_db(connection.alias, attnames, values))
    return built
