"""The shape of the house: each module imports only the layers below it, the data layer nothing
of the model, every setting is defined once (config.py) and the README and the command line
are made from it."""
import ast
import inspect
import re
from pathlib import Path

import pytest

import nprnn
from nprnn import cli
from nprnn.config import Seq2SeqConfig, TrainConfig, options, options_table

ROOT = Path(nprnn.__file__).parent
README = (ROOT.parent / "README.md").read_text(encoding="utf-8")

# The layers, bottom first: a module may import only modules of earlier layers (or its own).
LAYERS = [
    {"checks", "functional", "files"},
    {"data"},
    {"module"},
    {"cells"},
    {"layers"},
    {"recurrent"},
    {"attention"},
    {"config"},
    {"encoder"},
    {"decoder"},
    {"search"},
    {"seq2seq"},
    {"optim", "gradcheck", "metrics"},
    {"checkpoint"},
    {"translate"},
    {"torch_model"},
    {"train", "plots", "export"},
    {"exercises"},
    {"cli", "__main__", "__init__"},
]
LEVEL = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def top_module(path):
    """'data' for nprnn/data/*.py, 'cells' for nprnn/cells.py."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return parts[0]


def nprnn_imports(path):
    """The nprnn modules a file imports (relative or absolute), by their top name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = path.relative_to(ROOT).parts[:-1]  # () for nprnn/, ('data',) for nprnn/data/
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                names = list(base) + (node.module.split(".") if node.module else [])
                if names:
                    found.add(names[0])
                else:  # "from . import search"
                    found.update(alias.name for alias in node.names)
            elif node.module and node.module.split(".")[0] == "nprnn":
                found.add(node.module.split(".")[1] if "." in node.module else "__init__")
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("nprnn."))
    return found


FILES = sorted(p for p in ROOT.rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_each_module_imports_only_the_layers_below_it(path):
    me = top_module(path)
    assert me in LEVEL, f"{me} is in no layer of this test (and so, likely, not in the README's layout)"
    for other in nprnn_imports(path) - {me}:
        assert LEVEL[other] < LEVEL[me] or me in ("__init__", "__main__"), f"{path.name} imports {other}, a layer above it"


def test_the_data_layer_imports_nothing_from_the_model():
    for path in (ROOT / "data").glob("*.py"):
        assert nprnn_imports(path) <= {"data", "checks", "files"}, path


def test_every_module_says_what_it_holds_and_is_in_the_readme():
    for path in ROOT.glob("*.py"):
        if path.name in ("__init__.py", "__main__.py"):
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert doc and len(doc) > 40, f"{path.name} has no module docstring"
        assert f"`nprnn/{path.name}`" in README, f"{path.name} is missing from the README's layout table"


def _code_lines(node):
    """Lines of a class or function, its docstring left out."""
    length = node.end_lineno - node.lineno
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant):
        length -= first.end_lineno - first.lineno + 1
    return length


def test_no_class_over_150_code_lines_and_no_function_over_60():
    for path in FILES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            length = _code_lines(node) if isinstance(node, (ast.ClassDef, ast.FunctionDef)) else 0
            if isinstance(node, ast.ClassDef):
                assert length <= 150, f"{path.name}: class {node.name} has {length} lines"
            elif isinstance(node, ast.FunctionDef):
                assert length <= 60, f"{path.name}: {node.name} has {length} lines"


def test_the_readme_table_of_settings_is_made_from_the_configs():
    assert options_table() in README
    for f in options(Seq2SeqConfig) + options(TrainConfig):  # and each row names a real field
        assert f"`{f.name}`" in options_table()


def test_the_train_flags_are_made_from_the_configs():
    train = cli.build_parser()._subparsers._group_actions[0].choices["train"]
    flags = {opt for action in train._actions for opt in action.option_strings}
    for f in options(Seq2SeqConfig) + options(TrainConfig):
        assert "--" + f.name.replace("_", "-") in flags, f.name
    assert {"--embed", "--hidden", "--layers"}.isdisjoint(flags)  # one name per concept: PyTorch's
    choices = {a.dest: a.choices for a in train._actions if a.choices}
    assert set(choices["cell"]) == set(nprnn.cells.CELLS)  # from the registries, not a list typed again
    assert set(choices["attention"]) == set(nprnn.attention.SCORES) | {"none"}


def test_seq2seq_takes_exactly_the_config_fields():
    model = nprnn.Seq2Seq(9, 8, embedding_dim=3, hidden_size=4, num_layers=2, dropout=0.1)
    assert model.config == Seq2SeqConfig(9, 8, 3, 4, num_layers=2, dropout=0.1)
    with pytest.raises(TypeError, match="embed_size"):
        nprnn.Seq2Seq(9, 8, embed_size=3)


def test_one_name_per_concept_in_the_library():
    """embed / embed_size / layers= were the old names; PyTorch's are embedding_dim, num_layers."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in FILES)
    assert not re.search(r"\bembed_size\b|\bembed=|\bhidden=|\blayers=", source)
    assert "clip_grad_norm(" not in source and "return_attention" not in source
    assert inspect.signature(nprnn.Embedding).parameters["padding_idx"].default == 0
