"""A fleet's members in results.json, and the bytes an image of cells ships: what `sizekit check`
needs of a fleet (its budget) without reading any ELF file (sizekit.results.fleet does that)."""
from ..utils.errors import ResultsError
from .cells import ok_bytes
from .merge import shard_of


def image_bytes(cells):
    """What an image of these results.json cells ships: each final file, and each shared library
    a cell needs (prefer-dynamic's std) once per target. What a fleet budget checks."""
    libraries = {}
    for c in cells:
        for lib in c.get("shared_libraries") or []:
            libraries[c["target"], lib["name"]] = lib["bytes"]
    return sum(ok_bytes(c) or 0 for c in cells) + sum(libraries.values())


def smoke_verdict(cells):
    """"passed" when every cell's smoke check passed, "failed" when one failed, else "not checked"."""
    oks = [(c.get("smoke") or {}).get("ok") for c in cells]
    return "failed" if False in oks else "passed" if oks and all(oks) else "not checked"


def member_cells(results, results_path, fleet):
    """The results.json cells of the fleet's members, in its order. Raises ResultsError naming the
    fleet's key when a member is not there or did not build."""
    cells = {f"{c['crate']}/{c['target']}/{c['variant']}": c for c in results["cells"]}
    index, count, _ = shard_of(results_path, results)
    out = []
    for i, name in enumerate(fleet.cells):
        key = f"fleets.{fleet.name}[{i}]"
        cell = cells.get(name)
        if cell is None:
            if count > 1:
                raise ResultsError(f"{key}: {name} is built by another shard ({results_path} is shard {index} "
                                   f"of {count}); merge the shards' results (sizekit merge) and ask the merged file")
            raise ResultsError(f"{key}: {name} is not in {results_path}; run the matrix (sizekit run) first")
        if ok_bytes(cell) is None:
            raise ResultsError(f"{key}: {name} is {cell.get('status')} in {results_path}"
                               f"{': ' + str(cell.get('reason')) if cell.get('reason') else ''}; "
                               f"every member must build before the fleet is measured")
        out.append(cell)
    return out
