// DOM building blocks of the scatter's chrome: buttons, sliders, the legend and the KL sparkline.
import { icon } from "./icons.js";
import { legendColumns } from "./chrome_state.js";
import { categoryCss, UNLABELLED } from "./palette.js";

/** Create an element with a class and optional text. */
export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A button with an icon and/or a label; `title` doubles as its accessible name. */
export function button({ iconName, label, title, className, onClick }) {
  const node = element("button", className);
  node.type = "button";
  if (iconName) setIcon(node, iconName);
  if (label) node.appendChild(document.createTextNode(label));
  if (title) { node.title = title; node.setAttribute("aria-label", title); }
  node.addEventListener("click", onClick);
  return node;
}

/** Swap a button's icon (play <-> pause). An unchanged icon keeps its node: the chrome is
 * re-synced on every trait change, and a node swapped between mouse down and up loses the click. */
export function setIcon(node, iconName) {
  if (node.dataset.icon === iconName) return;
  node.dataset.icon = iconName;
  const old = node.querySelector("svg");
  const fresh = icon(iconName);
  if (old) node.replaceChild(fresh, old); else node.prepend(fresh);
}

/** A two-or-more-way segmented toggle; returns {node, set(value)}. */
export function segmented(options, onPick) {
  const node = element("div", "seg");
  const buttons = new Map();
  for (const { value, label, iconName, title } of options) {
    const b = button({ iconName, label, title, onClick: () => onPick(value) });
    b.dataset.value = value;
    buttons.set(value, b);
    node.appendChild(b);
  }
  return {
    node,
    buttons,
    set(value) { for (const [v, b] of buttons) b.classList.toggle("on", v === value); },
  };
}

/**
 * A labelled range slider. `toSlider` / `fromSlider` map between the value and the slider's
 * position (identity by default, log10 for the learning rate). `onCommit` fires on release.
 */
export function slider({ label, min, max, step, format, toSlider = (v) => v, fromSlider = (p) => p, onInput, onCommit }) {
  const node = element("div", "slider");
  const head = element("label");
  const name = element("span", "", label);
  const valueText = element("span");
  head.append(name, valueText);
  const input = element("input");
  input.type = "range";
  input.min = String(min);
  input.max = String(max);
  input.step = String(step);
  input.setAttribute("aria-label", label);
  node.append(head, input);
  let dragging = false;
  input.addEventListener("input", () => {
    dragging = true;
    const value = fromSlider(Number(input.value));
    valueText.textContent = format(value);
    if (onInput) onInput(value);
  });
  input.addEventListener("change", () => {
    dragging = false;
    onCommit(fromSlider(Number(input.value)));
  });
  return {
    node,
    input,
    set(value, text) {
      if (dragging) return;
      input.value = String(toSlider(value));
      valueText.textContent = text ?? format(value);
    },
    disable(disabled, why) { input.disabled = disabled; node.title = disabled ? why : ""; },
  };
}

/**
 * The legend: one row per category with its colour and count; clicking a row selects the
 * category (onPick), its eye button shows or hides the category's points (onToggle).
 */
export function legend(names, counts, onPick, onToggle) {
  const node = element("div", legendColumns(names) === 2 ? "legend two-columns" : "legend");
  const rows = [];
  const eyes = [];
  names.forEach((name, index) => {
    const row = element("div", "item");
    row.dataset.index = String(index);
    const swatch = element("span", "swatch");
    swatch.style.background = categoryCss(index, names.length);
    const eye = button({ iconName: "eye", title: `Hide the points of ${name}`, className: "eye", onClick: (event) => {
      event.stopPropagation();
      onToggle(index);
    } });
    row.append(eye, swatch, element("span", "", name), element("span", "count", String(counts[index] || 0)));
    row.addEventListener("click", (event) => onPick(index, event.shiftKey || event.metaKey || event.ctrlKey));
    rows.push(row);
    eyes.push(eye);
    node.appendChild(row);
  });
  return {
    node,
    highlight(activeSet) { rows.forEach((row, i) => row.classList.toggle("on", activeSet.has(i))); },
    /** Mark the hidden categories: their rows fade and their eye buttons offer to show them. */
    setHidden(hiddenSet) {
      rows.forEach((row, i) => {
        const hidden = hiddenSet.has(i);
        row.classList.toggle("hidden", hidden);
        setIcon(eyes[i], hidden ? "eyeOff" : "eye");
        const text = `${hidden ? "Show" : "Hide"} the points of ${names[i]}`;
        eyes[i].title = text;
        eyes[i].setAttribute("aria-label", text);
      });
    },
  };
}

/** Swatch colour for a point's category (or the single colour of unlabelled data). */
export function swatchColor(code, nCategories) {
  return code === undefined || code === null ? UNLABELLED : categoryCss(code, nCategories);
}

/**
 * The KL sparkline: an SVG polyline of [[iteration, kl], ...] over a fixed box, scaled to
 * x in [0, maxIteration], y between the smallest and largest KL shown.
 */
export function sparkline(width, height) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("fill", "none");
  line.setAttribute("stroke", "#2f6fde");
  line.setAttribute("stroke-width", "1.5");
  line.setAttribute("stroke-linejoin", "round");
  svg.appendChild(line);
  return {
    node: svg,
    set(points, maxIteration) {
      if (!points.length) { line.setAttribute("points", ""); return; }
      let lo = Infinity; let hi = -Infinity;
      for (const [, kl] of points) { lo = Math.min(lo, kl); hi = Math.max(hi, kl); }
      const span = hi - lo || 1;
      const first = points[0][0];
      const last = points[points.length - 1][0];
      // The run so far fills the box; a run near its end shows its whole length.
      const xmax = maxIteration && maxIteration <= 1.5 * last ? maxIteration : Math.max(last, first + 1);
      const pad = 3;
      line.setAttribute("points", points.map(([it, kl]) => {
        const x = pad + ((it - first) / Math.max(xmax - first, 1)) * (width - 2 * pad);
        const y = pad + (1 - (kl - lo) / span) * (height - 2 * pad);
        return `${x.toFixed(1)},${y.toFixed(1)}`;
      }).join(" "));
    },
  };
}
