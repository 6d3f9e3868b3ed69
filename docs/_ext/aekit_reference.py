"""The option and command-line references, written at build time from the code itself.

A page holding the line ``<!-- aekit-reference: options -->`` (or ``cli``) gets it replaced,
as Sphinx reads the page, by Markdown generated from the option declarations
(``aekit.models.option_fields()``, each family's own marked with the family, and
``aekit.models.options.evaluation_fields()``) or from ``aekit``'s argparse parser
(``aekit.cli.parser.build_parser()``). Nothing is copied by hand, so the reference cannot go
stale: a new option or flag appears in the next build.

The generators are plain functions (``options_markdown``, ``cli_markdown``) that import no
Sphinx, so a test can check them without building the site.
"""

from __future__ import annotations

import argparse
import re

from aekit.cli.parser import build_parser
from aekit.models import MODELS, option_fields
from aekit.models.options import EVALUATION_OWNERS, OWNERS, evaluation_fields
from aekit.options.declaring import describe, flag_of, shown_default, spec_of

MARKER = re.compile(r"^<!-- aekit-reference: (\w+) -->$", re.M)
USAGE_WIDTH = 90  # usage lines wrap here, whatever the terminal that builds the docs
GROUP_TITLES = {
    "model": "What is built",
    "training": "How it is trained",
}


def escaped(text: str) -> str:
    """``text`` as Markdown shows it literally (help texts hold ``*``, ``_``, ``|``, ``<``)."""
    return re.sub(r"([\\`*_{}\[\]<>|#!])", r"\\\1", text)


def option_anchor(name: str) -> str:
    """The label of an option's entry: ``{ref}`lr_drops <option-lr_drops>``` links to it."""
    return f"option-{name}"


def _shown_default(option) -> str:
    """The default in code type when it is a value, in words when it is decided later."""
    shown = shown_default(option)
    decided_later = option.default is None and spec_of(option).auto is not None
    return escaped(shown) if decided_later else f"`{shown}`"


def _option_entry(option, owners: dict[str, tuple[str, ...]]) -> str:
    spec = spec_of(option)
    meaning = escaped(spec.help[0].upper() + spec.help[1:])
    facts = [f"**CLI** `{flag_of(option)}`", f"**default** {_shown_default(option)}"]
    if option.name in owners:
        families = ", ".join(
            f"`{name}` ({MODELS[name].display_name})" for name in owners[option.name]
        )
        facts.insert(0, f"**family** {families}")
    return "\n".join(
        [
            f"({option_anchor(option.name)})=",
            f"### `{option.name}`",
            "",
            " · ".join(facts),
            "",
            f"{meaning}. Allowed: {escaped(describe(option))}.",
            "",
        ]
    )


def _summary_table(options) -> list[str]:
    lines = ["| option | CLI | default |", "|---|---|---|"]
    for option in options:
        link = f"[`{option.name}`](#{option_anchor(option.name)})"
        lines.append(f"| {link} | `{flag_of(option)}` | {_shown_default(option)} |")
    return [*lines, ""]


def options_markdown() -> str:
    """Every training option (the shared ones by group, then each family's own, marked with
    its family) and every family's evaluation options, as Markdown."""
    options = option_fields()
    shared = [option for option in options if option.name not in OWNERS]
    own = [option for option in options if len(OWNERS.get(option.name, ())) == 1]
    several = [option for option in options if len(OWNERS.get(option.name, ())) > 1]
    lines = ["## At a glance", "", *_summary_table(options)]
    for group, title in GROUP_TITLES.items():
        lines += [f"## {title}", ""]
        lines += [_option_entry(o, OWNERS) for o in shared if spec_of(o).group == group]
    if several:  # declared once (a mixin the families share): one entry naming them all
        lines += ["## Options of several families", ""]
        lines += [_option_entry(option, OWNERS) for option in several]
    for family in MODELS.values():
        mine = [option for option in own if family.family_name in OWNERS[option.name]]
        if mine:
            lines += [f"## Options of the {family.display_name} (`{family.family_name}`)", ""]
            lines += [_option_entry(option, OWNERS) for option in mine]
    lines += [
        "## Evaluation options",
        "",
        "Keywords of `aekit.evaluate` and flags of `aekit evaluate`, for the families that "
        "add figures of their own.",
        "",
    ]
    lines += [_option_entry(option, EVALUATION_OWNERS) for option in evaluation_fields()]
    return "\n".join(lines)


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, tuple[str, argparse.ArgumentParser]]:
    """Each command's name -> (its one-line help, its parser), in the parser's order."""
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in action._choices_actions}
    return {name: (helps.get(name) or "", sub) for name, sub in action.choices.items()}


def _invocation(action: argparse.Action, formatter: argparse.HelpFormatter) -> str:
    """How an argument is written: ``-o OUTPUT, --output OUTPUT``, or a positional's name."""
    if not action.option_strings:
        return formatter._metavar_formatter(action, action.dest)(1)[0]
    if action.nargs == 0:
        return ", ".join(action.option_strings)
    arguments = formatter._format_args(action, action.dest.upper())
    return ", ".join(f"{flag} {arguments}" for flag in action.option_strings)


def _usage(parser: argparse.ArgumentParser) -> str:
    """``parser.format_usage()`` at a fixed width (argparse otherwise takes the terminal's)."""
    formatter = parser.formatter_class(prog=parser.prog, width=USAGE_WIDTH)
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups)
    return formatter.format_help().strip()


def _argument_lines(parser: argparse.ArgumentParser) -> list[str]:
    formatter = parser._get_formatter()
    lines = []
    for group in parser._action_groups:
        actions = [a for a in group._group_actions if a.help is not argparse.SUPPRESS]
        actions = [a for a in actions if not isinstance(a, argparse._HelpAction)]
        if not actions:
            continue
        lines += [f"**{escaped(group.title)}**", ""]
        for action in actions:
            help_text = formatter._expand_help(action) if action.help else ""
            lines.append(f"`{_invocation(action, formatter)}`")
            lines.append(f": {escaped(help_text)}" if help_text else ": ")
            lines.append("")
    return lines


def cli_markdown() -> str:
    """Every ``aekit`` command: its help, its usage and each argument's help, as argparse
    has them."""
    parser = build_parser()
    lines = ["```text", _usage(parser), "```", ""]
    for name, (summary, sub) in _subcommands(parser).items():
        lines += [f"(cli-{name})=", f"## `aekit {name}`", ""]
        if summary:
            lines += [escaped(summary[0].upper() + summary[1:]) + ".", ""]
        if sub.description:
            lines += [escaped(sub.description), ""]
        lines += ["```text", _usage(sub), "```", ""]
        lines += _argument_lines(sub)
    return "\n".join(lines)


GENERATORS = {"options": options_markdown, "cli": cli_markdown}


def _fill_in(app, docname: str, source: list[str]) -> None:
    """Replace each marker line of a page by the reference it names, as Sphinx reads it."""
    found = MARKER.findall(source[0])
    if not found:
        return
    app.env.aekit_generated_pages = getattr(app.env, "aekit_generated_pages", set()) | {docname}
    for kind in found:
        if kind not in GENERATORS:
            raise ValueError(f"{docname}: unknown aekit-reference {kind!r}; use {list(GENERATORS)}")
    source[0] = MARKER.sub(lambda match: GENERATORS[match.group(1)](), source[0])


def _always_reread(app, env, added, changed, removed) -> list[str]:
    """The generated pages follow the code, not their file: read them again every build."""
    return sorted(getattr(env, "aekit_generated_pages", set()) - set(removed))


def _merge(app, env, docnames, other) -> None:
    """A parallel build's readers found their generated pages apart: keep them all."""
    pages = getattr(other, "aekit_generated_pages", set())
    env.aekit_generated_pages = getattr(env, "aekit_generated_pages", set()) | pages


def setup(app):
    app.connect("source-read", _fill_in)
    app.connect("env-get-outdated", _always_reread)
    app.connect("env-merge-info", _merge)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
