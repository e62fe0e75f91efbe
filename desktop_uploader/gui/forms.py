"""A form for a settings dataclass: one widget per field, chosen from the settings schema.

Settings grow (other issues add policy and transfer fields); a generic form shows new fields
without GUI changes. Each field's label, tooltip, choices and range come from the schema
(``config`` + ``settings_schema``), the same one that checks settings.toml when it is read.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRegularExpression
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from desktop_uploader.settings_fields import FieldSpec, field_specs

# Hints shown inside empty text fields (labels, help and choices come from the settings schema).
PLACEHOLDERS = {
    "endpoint": "empty: AWS S3",
    "region": "empty: the provider's default (us-east-1; auto for R2)",
    "public_base_url": "empty: the bucket's own URL",
    "content_label_thresholds": "e.g. BUTTOCKS_EXPOSED = 0.8, FEMALE_BREAST_EXPOSED = 0.7",
}


class DataclassForm(QWidget):
    """Edits the fields ``names`` (default: all but ``name``) of dataclass instances.
    ``choices`` overrides the schema's choices of a field (e.g. the destinations there are)."""

    def __init__(
        self,
        cls: type,
        names: list[str] | None = None,
        choices: dict[str, tuple[str, ...]] | None = None,
        parent=None,
    ) -> None:
        super().__init__(parent)
        known = {spec.name: spec for spec in field_specs(cls)}
        for name, values in (choices or {}).items():
            if name in known:
                known[name] = _with_choices(known[name], tuple(values))
        wanted = names if names is not None else [n for n in known if n != "name"]
        self._fields = [known[n] for n in wanted if n in known]
        self.widgets: dict[str, QWidget] = {}
        layout = QFormLayout(self)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        for spec in self._fields:
            widget = self._widget_for(spec)
            widget.setObjectName(spec.name)
            widget.setAccessibleName(spec.label)
            widget.setToolTip(_tooltip(spec))
            self.widgets[spec.name] = widget
            if isinstance(widget, QCheckBox):
                widget.setText(spec.label)
                layout.addRow("", widget)
            else:
                layout.addRow(spec.label, widget)

    def _widget_for(self, spec: FieldSpec) -> QWidget:
        if spec.kind == "choice":
            box = QComboBox()
            for value in spec.choices:
                box.addItem(spec.choice_labels.get(value, value), value)
            return box
        if spec.kind == "bool":
            return QCheckBox()
        if spec.kind == "int":
            spin = QSpinBox()
            low = spec.minimum if spec.minimum is not None else (spec.above or -1) + 1
            spin.setRange(int(max(low, 0)), int(min(spec.maximum or 2_000_000_000, 2**31 - 1)))
            spin.setGroupSeparatorShown(True)
            return spin
        if spec.kind == "float":
            spin = QDoubleSpinBox()
            spin.setDecimals(2)
            low = spec.minimum if spec.minimum is not None else (spec.above or -0.01) + 0.01
            spin.setRange(max(low, 0.0), spec.maximum if spec.maximum is not None else 1e6)
            spin.setSingleStep(0.05 if (spec.maximum or 2) <= 1 else 1.0)
            return spin
        edit = QLineEdit()
        edit.setPlaceholderText(PLACEHOLDERS.get(spec.name, ""))
        if spec.kind == "ints":  # comma-separated whole numbers only
            edit.setValidator(QRegularExpressionValidator(QRegularExpression(r"[\d,\s]*"), edit))
        return edit

    def load(self, obj: Any) -> None:
        """Show ``obj``'s values."""
        for spec in self._fields:
            w, value = self.widgets[spec.name], getattr(obj, spec.name)
            if isinstance(w, QComboBox):
                if w.findData(str(value)) < 0:
                    w.addItem(spec.choice_labels.get(str(value), str(value)), str(value))
                w.setCurrentIndex(w.findData(str(value)))
            elif isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, QSpinBox):
                w.setValue(int(value))
            elif isinstance(w, QDoubleSpinBox):
                w.setValue(float(value))
            elif isinstance(value, list):
                w.setText(", ".join(map(str, value)))
            elif isinstance(value, dict):  # a table of scores: "NAME = 0.8, OTHER = 0.9"
                w.setText(", ".join(f"{k} = {v:g}" for k, v in value.items()))
            else:
                w.setText("" if value is None else str(value))

    def store(self, obj: Any) -> None:
        """Write the widgets' values into ``obj`` (the schema checks them when saved)."""
        for spec in self._fields:
            w = self.widgets[spec.name]
            if isinstance(w, QComboBox):
                value: Any = w.currentData()
            elif isinstance(w, QCheckBox):
                value = w.isChecked()
            elif isinstance(w, QSpinBox | QDoubleSpinBox):
                value = w.value()
            elif spec.kind in ("list", "ints"):
                value = [p.strip() for p in w.text().split(",") if p.strip()]
                if spec.kind == "ints":
                    value = [int(p) for p in value]
            elif spec.kind == "scores":
                value = _scores(w.text())
            else:
                value = w.text().strip()
                if not value and spec.optional:
                    value = None
            setattr(obj, spec.name, value)


def _scores(text: str) -> dict[str, Any]:
    """``"A = 0.8, B = 0.9"`` → ``{"A": 0.8, "B": 0.9}``; what is not a number stays text, so
    the schema names it when the settings are saved."""
    table: dict[str, Any] = {}
    for part in text.split(","):
        name, _, number = part.partition("=")
        if not name.strip():
            continue
        try:
            table[name.strip()] = float(number)
        except ValueError:
            table[name.strip()] = number.strip()
    return table


def _tooltip(spec: FieldSpec) -> str:
    text = spec.help
    if spec.kind in ("list", "scores") and spec.choices:
        text += "\nAllowed: " + ", ".join(spec.choices)
    return text


def _with_choices(spec: FieldSpec, choices: tuple[str, ...]) -> FieldSpec:
    import dataclasses

    return dataclasses.replace(spec, kind="choice", choices=choices)
