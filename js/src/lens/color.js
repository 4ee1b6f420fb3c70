// The scatter's colours for the lens's `color_by` (what ModelLens._apply_color does in Python),
// applied in the browser where no kernel does it (an offline report).

/** Set the scatter model's colour traits for `colorBy` from the lens model's per-point data. */
export function applyColor(lens, scatter) {
  const colorBy = lens.get("color_by");
  if (colorBy === "confidence") {
    scatter.set({ label_codes: new DataView(new ArrayBuffer(0)), label_names: [], color_values: lens.get("_confidence"),
      color_range: [0, 1], color_label: "confidence (probability of the predicted class)" });
  } else {
    const codes = lens.get(colorBy === "label" ? "_label_codes" : "_predicted_codes");
    scatter.set({ color_values: new DataView(new ArrayBuffer(0)), label_codes: codes, label_names: lens.get("_class_names") ?? [] });
  }
  scatter.save_changes();
}
