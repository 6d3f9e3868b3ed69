"""The package's shape stays true: its wings import one way, down the layers below, with no
import circle and no import of aekit inside a function; no module outside ``models/`` names a
family; files and functions stay small enough to read in one sitting."""

import ast
import re
from pathlib import Path

import pytest

import aekit.models

PACKAGE = Path(aekit.models.__file__).resolve().parent.parent
# Top to bottom: a module may import from its own wing and from the wings below it. Wings on
# one line are peers and may not import each other.
LAYERS = [
    ["aekit.__main__"],
    ["aekit.cli"],
    ["aekit.sklearn"],
    ["aekit"],
    ["aekit.sweeps"],
    ["aekit.api"],
    ["aekit.reports"],
    ["aekit.evaluation", "aekit.training"],
    ["aekit.trained"],
    ["aekit.runs"],
    ["aekit.models"],
    ["aekit.options"],
    ["aekit.nn"],
    ["aekit.data"],
    ["aekit.atomic_files"],
    ["aekit.errors", "aekit._version"],
]
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60
FAMILY_NAMES = tuple(aekit.models.MODELS)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def wing_of(module: str) -> str:
    """The wing a module belongs to: its subpackage, or itself at the top of the package."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def layer_of(module: str) -> int:
    wing = wing_of(module)
    return next(i for i, layer in enumerate(LAYERS) if wing in layer)


def imports(path: Path) -> list[tuple[str, ast.AST, bool]]:
    """(imported aekit module, the import node, whether it sits inside a function) of a file;
    imports under ``if TYPE_CHECKING:`` are left out (annotations only)."""
    module = module_name(path)
    tree = ast.parse(path.read_text())
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []

    def visit(node, in_function: bool):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return
        inside = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            if base.split(".")[0] == "aekit":
                for alias in node.names:
                    target = f"{base}.{alias.name}"
                    found.append((target if target in MODULES else base, node, inside))
        elif isinstance(node, ast.Import):
            found.extend((a.name, node, inside) for a in node.names if a.name.startswith("aekit"))
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(tree, False)
    return found


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_run_down_the_layers(module):
    path = MODULES[module]
    for target, node, inside in imports(path):
        where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
        assert not inside, f"{where} imports {target} inside a function"
        if wing_of(target) == wing_of(module) or target == "aekit":
            continue
        assert layer_of(target) > layer_of(module), (
            f"{where}: {module} ({wing_of(module)}) imports {target}, which is not below it"
        )


def test_no_import_circle():
    graph = {
        module: {target for target, _, _ in imports(path) if target in MODULES and target != module}
        for module, path in MODULES.items()
    }
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def walk(module: str, trail: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                circle = [*trail[trail.index(target) :], target]
                pytest.fail(f"import circle: {' -> '.join(circle)}")
            if target not in state:
                walk(target, [*trail, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module, [module])


def test_every_wing_says_what_it_holds_and_may_import():
    for module, path in MODULES.items():
        if path.name == "__init__.py" and module != "aekit":
            doc = ast.get_docstring(ast.parse(path.read_text())) or ""
            assert "May import" in doc, f"{module}'s docstring does not say what it may import"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_family_is_named_outside_models(module):
    """A comparison with a family's name belongs in that family's file."""
    if wing_of(module) == "aekit.models":
        return
    tree = ast.parse(MODULES[module].read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for operand in [node.left, *node.comparators]:
                literals = [operand, *(getattr(operand, "elts", None) or [])]
                for literal in literals:
                    if isinstance(literal, ast.Constant) and literal.value in FAMILY_NAMES:
                        pytest.fail(f"{module}:{node.lineno} compares with {literal.value!r}")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_files_and_functions_are_small(module):
    path = MODULES[module]
    text = path.read_text()
    assert text.count("\n") <= MAX_FILE_LINES, f"{module} has {text.count(chr(10))} lines"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            assert length <= MAX_FUNCTION_LINES, f"{module}.{node.name} has {length} lines"


def test_modules_are_named_for_what_they_hold():
    vague = re.compile(r"^(utils?\d*|helpers?|misc|common|stuff)$")
    for module in MODULES:
        assert not vague.match(module.rpartition(".")[2]), f"{module}: say what it holds"
