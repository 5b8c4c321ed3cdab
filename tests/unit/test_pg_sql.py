"""Every statement the server store sends is written once, in ``store/pg/sql.py``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATEMENT = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|COPY|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b")


def statements_written(path: Path) -> list[str]:
    """SQL statements written as string literals in ``path`` (docstrings and other bare strings,
    and the schema's own CREATE statements, are not statements sent)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    bare = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in bare
        and STATEMENT.match(node.value)
    ]


def test_no_statement_is_written_outside_the_one_table_of_them() -> None:
    found = {
        str(path.relative_to(ROOT)): statements
        for path in sorted((ROOT / "store").rglob("*.py"))
        if path != ROOT / "store" / "pg" / "sql.py" and (statements := statements_written(path))
    }
    assert found == {}


def test_the_table_names_each_statement_once() -> None:
    from store.pg import sql

    texts = [value for name, value in vars(sql).items() if name.isupper() and isinstance(value, str)]
    assert len(texts) == len(set(texts))
