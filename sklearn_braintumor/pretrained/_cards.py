"""Model cards as text: ``braintumor models`` and the docs' pretrained-models page."""

from __future__ import annotations


def _pct(value) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def _own_lines(card: dict) -> list[str]:
    """Return the recipe and file lines of a model with its own network."""
    negative, members = card["negative_class"], card.get("members", [])
    if members:
        held = card["held_out_healthy"]
        networks = "; ".join(
            ", ".join([f"seed {m['seed']}", *(f"{k}={v}" for k, v in m["settings"].items())])
            for m in members
        )
        recipe = (
            f"quick profile, {len(members)} networks ({networks}), each leaving out its "
            f"own validation tenth and the same {_pct(held['share'])} of the healthy Training "
            f"scans ({held['n_healthy']}, with every copy); their probabilities averaged "
            f"(`average_networks`); {negative} only at a probability of at least "
            f"{card['threshold']:.3f}, set on those healthy scans, which no network saw"
        )
    else:
        recipe = (
            f"quick profile, seed 0; {negative} only at a probability of at least "
            f"{card['threshold']:.3f}"
        )
    return [
        f"- **Recipe**: `{card['recipe']}` (`braintumor list` describes it), {recipe}; "
        f"trained in {card['fit_seconds'] / 60:.1f} min{' in all' if members else ''} "
        f"on a {card['hardware']}.",
        f"- **File**: {card['n_bytes'] / 1e6:.2f} MB, safe model format, SHA-256 "
        f"`{card['sha256']}` (checked on every load).",
    ]


def _staged_lines(card: dict) -> list[str]:
    """Return how a model that combines shipped ones decides, and where its weights are."""
    screen, estimator = card["stages"]
    return [
        f"- **Built from**: the `{screen}` model decides tumour / no tumour "
        f"({card['negative_class']} only at a probability of at least "
        f"{card['threshold']:.3f}); the `{estimator}` model names the tumour type "
        f"(`TwoStageClassifier`). The recipe `{card['recipe']}` trains the two at once; "
        f"these were trained apart, {card['fit_seconds'] / 60:.1f} min of training in all "
        f"on a {card['hardware']}.",
        f"- **File**: none of its own; the `{screen}` and `{estimator}` files "
        f"({card['n_bytes'] / 1e6:.2f} MB together), each checked on every load.",
    ]


def render_card(card: dict) -> str:
    """Return one model card as Markdown."""
    figures, guard = card.get("figures", {}), card.get("guard", {})
    lines = [
        f"## `{card['name']}`",
        "",
        card["summary"] + ".",
        "",
        f"- **Classes**: {', '.join(card['classes'])}",
        f"- **Training data**: {card['training_data']}.",
        *(_staged_lines(card) if card.get("stages") else _own_lines(card)),
        f"- **Rebuild**: `{card['build_command']}` (from a clone of the repository).",
        f"- **Intended use**: {card['intended_use']}",
        f"- **{card['not_a_medical_device']}**",
        "",
        "| measured on | accuracy | balanced accuracy | macro F1 | tumour sensitivity | "
        "specificity |",
        "|---|---|---|---|---|---|",
    ]
    for key, title in (
        ("official_testing", "official Testing split"),
        ("clean_testing", "its clean subset (no near-copy of a training image)"),
    ):
        if key in figures:
            f = figures[key]
            lines.append(
                f"| {title} | {_pct(f['accuracy'])} | {_pct(f['balanced_accuracy'])} | "
                f"{_pct(f['macro_f1'])} | | |"
            )
    other = figures.get("other_source")
    if other:
        lines.append(
            f"| **held-out yes/no set** (another collection, never trained on: "
            f"{other['n_tumor']} tumour and {other['n_healthy']} healthy scans) | | | | "
            f"**{_pct(other['sensitivity'])}** | {_pct(other.get('specificity'))} "
            f"(of {other['n_healthy']}) |"
        )
    lines += ["", f"Command: `{(other or figures.get('official_testing', {})).get('command', '')}`"]
    if other and other.get("n_copies"):
        lines += [
            "",
            f"{other['n_copies']} images of the yes/no set have an exact or near copy (perceptual "
            "hash distance <= 4) among the training images and are left out of its row: most of "
            "its healthy scans are also in the 4-class set, so its specificity is measured on "
            "too few scans to mean much.",
        ]
    if guard:
        other = "other_source_shifted" in guard
        lines += [
            "",
            f"**Shift** (`shift_score`, the `shift` column of `braintumor predict`; 1.0 where "
            f"{_pct(guard['rate'])} of validation images lie beyond): at or above 1 for "
            f"{_pct(guard['testing_shifted'])} of the {guard['n_testing']} official Testing "
            "images"
            + (
                f" and {_pct(guard['other_source_shifted'])} of the {guard['n_other_source']} "
                "images of the yes/no set"
                if other
                else ""
            )
            + f" (`{guard['command']}`). **Not an MRI slice** (`predict_ood`, the `ood` column): "
            f"flags {_pct(guard.get('testing_not_mri'))} of the Testing images"
            + (f" and {_pct(guard.get('other_source_not_mri'))} of the yes/no set" if other else "")
            + "; a check of the image itself, the same for every model.",
        ]
    lines += ["", "**Weak spots**", ""]
    lines += [f"- {spot}" for spot in card["weak_spots"]]
    return "\n".join(lines) + "\n"


def render_cards(cards: list[dict]) -> str:
    """Return every card, for the docs page."""
    return "\n".join(render_card(card) for card in cards)


def _table(rows: list[str]) -> list[str]:
    cells = [[cell.strip() for cell in row.strip().strip("|").split("|")] for row in rows]
    cells = [row for row in cells if not all(set(cell) <= set("-: ") for cell in row)]
    widths = [max(len(row[i]) for row in cells if i < len(row)) for i in range(len(cells[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip()
            for row in cells]  # fmt: skip


def as_plain_text(markdown: str) -> str:
    """Return a card's Markdown as terminal text: no ``**`` or backticks, tables in columns."""
    out: list[str] = []
    table: list[str] = []
    for line in markdown.replace("**", "").replace("`", "").splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            out += _table(table)
            table = []
        out.append(line[3:].upper() if line.startswith("## ") else line)
    if table:
        out += _table(table)
    return "\n".join(out) + "\n"
