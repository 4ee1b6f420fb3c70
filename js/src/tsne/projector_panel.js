// The Embedding-Projector controls of the side panel, built once and updated in place: the search
// box (with its match count or inline error), the focused point's true neighbours (list, k,
// metric, "7 of 10 kept"), the whole-plot "neighbours kept" readout and the colour bar.
import { button, element, segmented } from "./controls.js";

/** Show `node` when `state` is given, hide it otherwise; returns whether it is shown. */
function shownFor(node, state) {
  node.style.display = state ? "" : "none";
  return Boolean(state);
}

/** Search box: `onInput(query)` on every keystroke, `onKey(key, query)` on each key pressed
 * (true when it handled the key, whose browser default is then suppressed). */
export function searchBox({ onInput, onKey }) {
  const node = element("div", "search");
  node.appendChild(element("h4", "", "Search"));
  const input = element("input");
  input.type = "search";
  input.placeholder = "token, or /regex/";
  input.setAttribute("aria-label", "Search points");
  input.spellcheck = false;
  const status = element("div", "status");
  input.addEventListener("input", () => onInput(input.value));
  input.addEventListener("keydown", (event) => {
    event.stopPropagation(); // JupyterLab's command shortcuts must not see the typing
    if (onKey(event.key, input.value)) event.preventDefault();
  });
  node.append(input, status);
  return {
    node, input,
    /** Empty the box (Escape). */
    clear() { input.value = ""; },
    /** Show the query (when it came from the kernel) unless the user is typing it. */
    setQuery(query) { if (document.activeElement !== input && input.value !== query) input.value = query; },
    /** "12 matches" / the error, inline; `error` true colours it as one. */
    setStatus(text, error) {
      status.textContent = text;
      status.classList.toggle("error", Boolean(error));
    },
  };
}

/** The focused point's neighbours: `pick(i)` focuses a listed neighbour, `close()` clears focus. */
export function focusPanel({ pick, close, setK, setMetric }) {
  const node = element("div", "focus");
  const head = element("h4", "", "Neighbours");
  const title = element("div", "focus-title");
  const clear = button({ label: "×", title: "Clear the focused point", className: "close", onClick: close });
  const controls = element("div", "focus-controls");
  const kInput = element("input");
  kInput.type = "number";
  kInput.min = "1";
  kInput.step = "1";
  kInput.setAttribute("aria-label", "Number of neighbours k");
  kInput.addEventListener("change", () => setK(Number(kInput.value)));
  kInput.addEventListener("keydown", (event) => event.stopPropagation());
  const metric = segmented([
    { value: "euclidean", label: "Euclidean", title: "Distances in the original space: Euclidean" },
    { value: "cosine", label: "Cosine", title: "Distances in the original space: 1 - cosine similarity" },
  ], setMetric);
  const kLabel = element("label", "", "k ");
  kLabel.appendChild(kInput);
  controls.append(kLabel, metric.node);
  const kept = element("div", "kept");
  const list = element("ol", "neighbors");
  node.append(head, clear, title, controls, kept, list);
  return {
    node,
    /** Show the panel for `state` (null hides it): {title, k, maxK, metric, kept, rows, note}. */
    show(state) {
      if (!shownFor(node, state)) return;
      title.textContent = state.title;
      kInput.max = String(state.maxK);
      if (document.activeElement !== kInput) kInput.value = String(state.k);
      metric.set(state.metric);
      kept.textContent = state.kept;
      list.replaceChildren(...state.rows.map(({ index, text, distance, keptInLayout }) => {
        const row = element("li", keptInLayout ? "kept-in-layout" : "");
        row.dataset.index = String(index);
        row.append(element("span", "name", text), element("span", "distance", distance));
        row.addEventListener("click", () => pick(index));
        return row;
      }));
      if (state.note) list.replaceChildren(element("li", "note", state.note));
    },
  };
}

/** The whole-plot readout: mean share of true neighbours the layout keeps. */
export function keptReadout() {
  const node = element("div", "kept-readout");
  return {
    node,
    show(text) { if (shownFor(node, text)) node.textContent = text; },
  };
}

/** A horizontal colour bar with a title and three tick labels; show(null) hides it. */
export function colorbar() {
  const node = element("div", "colorbar");
  const title = element("h4");
  const bar = element("div", "bar-gradient");
  const ticks = element("div", "ticks");
  node.append(title, bar, ticks);
  return {
    node,
    show(state) {
      if (!shownFor(node, state)) return;
      title.textContent = state.title;
      bar.style.background = state.gradient;
      ticks.replaceChildren(...state.ticks.map((t) => element("span", "", t)));
    },
  };
}
