"""The plugin reference in docs/providers.md, written from the plugins' own declarations
(`manage.py pcm_plugins --markdown`), so that the documentation cannot drift from them."""

from __future__ import annotations

from providers.base import Provider


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def plugin_markdown(plugin: type[Provider]) -> str:
    lines = [
        f"### `{plugin.key}`: {plugin.label}",
        "",
        f"Tested against: {plugin.tested_against}.",
        "",
    ]
    lines += _table(
        ("option", "credential (encrypted)", "required", "kind", "meaning"),
        [
            (
                f"`{o.name}`",
                "yes" if o.secret else "",
                "yes" if o.required else "",
                o.kind + (f": {', '.join(o.choices)}" if o.choices else ""),
                o.help,
            )
            for o in plugin.options
        ],
    )
    lines += ["", f"Capabilities: {', '.join(sorted(plugin.capabilities))}.", ""]
    lines += _table(
        ("provider state", "PCM status"),
        [(f"`{raw}`", str(status)) for raw, status in plugin.state_map.items()],
    )
    task_states = getattr(plugin, "task_state_map", None)
    if task_states:
        lines += ["", "A task in progress (`STATUS/task_state` in the raw status) comes first:", ""]
        lines += _table(
            ("task state", "PCM status"),
            [(f"`{raw}`", str(status)) for raw, status in task_states.items()],
        )
    lines += ["", "Any other provider state: unknown."]
    lines.append("")
    try:
        declared = plugin.extra_declared()
    except Exception:  # a plugin whose driver library is missing here
        declared = {}
    if not declared:
        lines.append("`extra` keys: none.")
        return "\n".join(lines)
    lines += ["`extra` keys:", ""]
    lines += _table(
        ("key", "type", "kind of secret", "meaning"),
        [
            (
                f"`{key}`",
                param.expected,
                ", ".join(
                    word
                    for word, flag in (
                        ("sensitive", param.sensitive),
                        ("privileged", param.privileged),
                    )
                    if flag
                ),
                param.help,
            )
            for key, param in sorted(declared.items())
        ],
    )
    return "\n".join(lines)


def markdown(plugins: dict[str, type[Provider]]) -> str:
    return "\n\n".join(plugin_markdown(plugins[key]) for key in sorted(plugins)) + "\n"
