"""A form for a settings dataclass: one widget per field, chosen from the field's type.

Settings grow (other issues add policy and transfer fields); a generic form shows new fields
without GUI changes, with labels and choices given where we know better than the field name.
"""

from __future__ import annotations

import dataclasses
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

LABELS = {
    "endpoint": "Endpoint URL",
    "region": "Region",
    "bucket": "Bucket",
    "prefix": "Key prefix",
    "addressing_style": "Addressing style",
    "public_base_url": "Public / CDN base URL",
    "provider": "Provider",
    "max_size": "Longest side (px)",
    "quality": "Quality (0–100)",
    "method": "Effort (0–6)",
    "thumbnail_size": "Thumbnail size (px)",
    "format": "Output format",
    "icc": "Colour profile",
    "max_bytes": "Largest file (bytes)",
    "max_pixels": "Most pixels",
    "max_frames": "Most frames",
    "malware_scan": "Malware scan",
    "content_check": "Content check",
    "content_labels": "Blocked content labels",
    "content_threshold": "Content score threshold",
    "link_format": "Link format",
    "copy_on_upload": "Copy the link after each upload",
    "notify": "Notify when uploads finish",
    "close_to_tray": "Keep running in the tray when the window closes",
    "start_at_login": "Start at login",
}
TOOLTIPS = {
    "endpoint": "Empty for AWS S3; e.g. https://<account>.r2.cloudflarestorage.com",
    "public_base_url": "Where links point, e.g. https://cdn.example.com (empty: the bucket URL)",
    "prefix": "Folder inside the bucket for uploads",
    "malware_scan": "required: reject when no scanner is available; optional: scan when one is",
    "content_check": "block: reject matching images; review: hold them for you to decide",
    "content_labels": "Comma-separated NudeNet labels",
    "icc": "strip: no profile (browsers assume sRGB); srgb: embed a standard sRGB profile. "
    "Pixels are always converted to sRGB; the original's profile is never copied.",
}
PLACEHOLDERS = {
    "endpoint": "empty: AWS S3",
    "region": "empty: the provider's default (us-east-1; auto for R2)",
    "public_base_url": "empty: the bucket's own URL",
}
CHOICE_LABELS = {"": "(provider default)"}
CHOICES: dict[str, tuple[str, ...]] = {
    "addressing_style": ("", "path", "virtual", "auto"),
    "malware_scan": ("required", "optional", "off"),
    "content_check": ("block", "review", "off"),
    "format": ("webp", "original"),
    "icc": ("strip", "srgb"),
    "originals": ("keep", "move"),
}


def label_for(name: str) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


class DataclassForm(QWidget):
    """Edits the fields ``names`` (default: all but ``name``) of dataclass instances."""

    def __init__(
        self,
        cls: type,
        names: list[str] | None = None,
        choices: dict[str, tuple[str, ...]] | None = None,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self._choices = {**CHOICES, **(choices or {})}
        known = {f.name: f for f in dataclasses.fields(cls)}
        wanted = names if names is not None else [n for n in known if n != "name"]
        self._fields = [known[n] for n in wanted if n in known]
        self.widgets: dict[str, QWidget] = {}
        layout = QFormLayout(self)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        for f in self._fields:
            widget = self._widget_for(f)
            widget.setObjectName(f.name)
            widget.setAccessibleName(label_for(f.name))
            if f.name in TOOLTIPS:
                widget.setToolTip(TOOLTIPS[f.name])
            self.widgets[f.name] = widget
            if isinstance(widget, QCheckBox):
                widget.setText(label_for(f.name))
                layout.addRow("", widget)
            else:
                layout.addRow(label_for(f.name), widget)

    def _kind(self, f: dataclasses.Field) -> str:
        t = str(f.type)
        if f.name in self._choices:
            return "choice"
        for kind in ("bool", "int", "float"):
            if t == kind:
                return kind
        if t == "list[int]":
            return "ints"
        return "list" if t.startswith("list") else "str"

    def _widget_for(self, f: dataclasses.Field) -> QWidget:
        kind = self._kind(f)
        if kind == "choice":
            box = QComboBox()
            for value in self._choices[f.name]:
                box.addItem(CHOICE_LABELS.get(value, value), value)
            return box
        if kind == "bool":
            return QCheckBox()
        if kind == "int":
            spin = QSpinBox()
            spin.setRange(0, 2_000_000_000)
            spin.setGroupSeparatorShown(True)
            return spin
        if kind == "float":
            spin = QDoubleSpinBox()
            spin.setRange(0, 1_000_000)
            spin.setDecimals(2)
            spin.setSingleStep(0.05)
            return spin
        edit = QLineEdit()
        edit.setPlaceholderText(PLACEHOLDERS.get(f.name, ""))
        if kind == "ints":  # comma-separated whole numbers only
            edit.setValidator(QRegularExpressionValidator(QRegularExpression(r"[\d,\s]*"), edit))
        return edit

    def load(self, obj: Any) -> None:
        """Show ``obj``'s values."""
        for f in self._fields:
            w, value = self.widgets[f.name], getattr(obj, f.name)
            if isinstance(w, QComboBox):
                if w.findData(str(value)) < 0:
                    w.addItem(CHOICE_LABELS.get(str(value), str(value)), str(value))
                w.setCurrentIndex(w.findData(str(value)))
            elif isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, QSpinBox):
                w.setValue(int(value))
            elif isinstance(w, QDoubleSpinBox):
                w.setValue(float(value))
            elif isinstance(value, list):
                w.setText(", ".join(map(str, value)))
            else:
                w.setText("" if value is None else str(value))

    def store(self, obj: Any) -> None:
        """Write the widgets' values into ``obj``."""
        for f in self._fields:
            w, old = self.widgets[f.name], getattr(obj, f.name)
            if isinstance(w, QComboBox):
                value: Any = w.currentData()
            elif isinstance(w, QCheckBox):
                value = w.isChecked()
            elif isinstance(w, QSpinBox | QDoubleSpinBox):
                value = w.value()
            elif isinstance(old, list):
                value = [p.strip() for p in w.text().split(",") if p.strip()]
                if self._kind(f) == "ints":
                    value = [int(p) for p in value]
            else:
                value = w.text().strip()
                if not value and (old is None or "None" in str(f.type)):
                    value = None
            setattr(obj, f.name, value)
