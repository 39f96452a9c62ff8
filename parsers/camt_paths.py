"""One camt element's subtree indexed by its namespace-free child paths, read without ElementPath.

`entry_rows` asks each `Ntry` some forty questions (`findtext("Refs/EndToEndId")`, ...); through
ElementPath each multi-step path is a Python generator chain, which made path lookups most of a
camt parse. Walking the subtree once into `{"NtryDtls/TxDtls/Refs/EndToEndId": [elements]}` and
answering from the dict gives the same answers: ElementPath's child-step paths yield matches in
document order, and so does the walk. Elements of another namespace (an `Any` extension inside
`SplmtryData`) keep their qualified tag in the key, so a camt path never matches them, as before.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element


def _walk(elem: Element, prefix: str, ns: str, cut: int, paths: dict[str, list[Element]]) -> None:
    for child in elem:
        tag = child.tag
        key = prefix + (tag[cut:] if tag.startswith(ns) else tag)
        found = paths.get(key)
        if found is None:
            paths[key] = [child]
        else:
            found.append(child)
        if len(child):
            _walk(child, key + "/", ns, cut, paths)


class Paths:
    """`find`/`findtext`/`findall` with ElementPath's answers, paths written without a namespace;
    `sub(path)` is the first match seen the same way (None when absent)."""

    __slots__ = ("paths", "prefix", "text", "ns")

    def __init__(self, paths: dict[str, list[Element]], prefix: str, text: str | None, ns: str) -> None:
        self.paths, self.prefix, self.text, self.ns = paths, prefix, text, ns

    @classmethod
    def of(cls, elem: Element, ns: str) -> Paths:
        paths: dict[str, list[Element]] = {}
        qualified = f"{{{ns}}}"
        _walk(elem, "", qualified, len(qualified), paths)
        return cls(paths, "", elem.text, ns)

    def find(self, path: str) -> Element | None:
        found = self.paths.get(self.prefix + path)
        return found[0] if found else None

    def findtext(self, path: str) -> str | None:
        found = self.paths.get(self.prefix + path)
        return (found[0].text or "") if found else None

    def findall(self, path: str) -> list[Element]:
        return list(self.paths.get(self.prefix + path, ()))

    def sub(self, path: str) -> Paths | None:
        """The first `path` element as a `Paths` of its own: a view into this index when it is the only
        one (its descendants' keys are its own), else walked afresh so a sibling's children never answer."""
        found = self.paths.get(self.prefix + path)
        if not found:
            return None
        if len(found) > 1:
            return Paths.of(found[0], self.ns)
        return Paths(self.paths, f"{self.prefix}{path}/", found[0].text, self.ns)


def local(path: str) -> str:
    """The `q` for a `Paths`: its paths are already namespace-free."""
    return path
