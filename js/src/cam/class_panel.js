// The class control: top-k predictions with probability bars, and a search over every class.
import { h, setChildren, formatPercent } from "./dom.js";
import { searchKeyAction } from "../lib/search_keys.js";
import { searchClasses } from "./class_search.js";

export class ClassPanel {
  constructor({ onSelect }) {
    this.onSelect = onSelect;
    this.query = "";
    this.search = h("input", {
      type: "search",
      "aria-label": "Search all classes by name",
      title: "Enter: pick the only or highlighted class · ↓↑: move through the list · Esc: clear",
      "data-role": "class-search",
      oninput: () => {
        this.query = this.search.value.trim();
        this.hint.hidden = this.search.value !== "";
        this.renderList();
      },
      onkeydown: (event) => this.searchKey(event),
    });
    // A hint drawn over the empty field (hidden as soon as there is text).
    this.hint = h("span", { class: "cam-search-hint", "aria-hidden": "true" }, "Search all classes…");
    this.title = h("h4", {}, "Top predictions");
    this.list = h("ul", { class: "cam-classes", role: "listbox", "data-role": "classes" });
    const searchBox = h("div", { class: "cam-search" }, this.search, this.hint);
    this.el = h("div", { class: "cam-field cam-class-control" }, this.title, searchBox, this.list);
    this.state = null;
    this.shown = []; // the class indices listed, in order
    this.active = -1; // the one the arrow keys highlight (-1: none)
  }

  /** Keys in the search box: Enter picks the highlighted (or only) class, arrows move, Escape clears. */
  searchKey(event) {
    const { action, active } = searchKeyAction({
      key: event.key, query: this.search.value, count: this.shown.length, active: this.active,
    });
    if (action === null) return;
    event.preventDefault();
    event.stopPropagation(); // the notebook's own shortcuts must not act on these keys
    if (action === "pick") this.choose(this.shown[active], this.state.isAvailable(this.shown[active]));
    else if (action === "move") this.setActive(active);
    else if (action === "clear") {
      this.clearSearch();
      this.renderList();
    }
  }

  /** Highlight listed class number `active` (-1: none) and keep it in view. */
  setActive(active) {
    this.active = active;
    this.list.querySelectorAll("li.cam-class").forEach((row, position) => {
      row.classList.toggle("cam-active", position === active);
      if (position === active) row.scrollIntoView?.({ block: "nearest" });
    });
  }

  choose(i, available) {
    if (!available) return;
    this.clearSearch(); // back to the top-k, with the chosen class pinned below them
    this.renderList(); // now, even when the chosen class is the current one (no trait change follows)
    this.onSelect(i);
  }

  clearSearch() {
    this.query = "";
    this.search.value = "";
    this.hint.hidden = false;
  }

  /** names: all class names; probs: Float32Array or null; topk: indices; isAvailable(i) -> bool. */
  update(state) {
    // Rebuilt only when something it shows changed (not on every progress message).
    const signature = [state.names.length, state.probs?.length, state.topk.join(","), state.target, state.version].join("|");
    const same = signature === this.signature && state.probs === this.state?.probs;
    this.state = state;
    if (same) return;
    this.signature = signature;
    this.renderList();
  }

  renderList() {
    const { names, probs, topk, target, isAvailable } = this.state;
    this.list.dataset.topk = topk.join(",");
    let indices = topk;
    let more = 0;
    if (this.query) {
      const found = searchClasses(names, probs, this.query);
      indices = found.indices;
      more = found.total - found.indices.length;
      this.title.replaceChildren(h("span", {}, "Matching classes"), h("span", {}, String(found.total)));
    } else {
      // The selected class stays visible even when it is not among the top-k.
      if (!indices.includes(target) && target >= 0 && target < names.length) indices = [...indices, target];
      this.title.replaceChildren(h("span", {}, `Top ${topk.length} predictions`), h("span", {}, probs ? "prob." : ""));
    }
    const rows = indices.map((i) => {
      const available = isAvailable(i);
      const p = probs ? probs[i] : null;
      return h(
        "li",
        {
          class: `cam-class${i === target ? " cam-selected" : ""}${available ? "" : " cam-disabled"}`,
          role: "option",
          "aria-selected": i === target ? "true" : "false",
          "data-class": String(i),
          title: available ? `${names[i]} (class ${i})` : `${names[i]}: not saved in this report`,
          tabindex: available ? "0" : "-1",
          onclick: () => this.choose(i, available),
          onkeydown: (event) => {
            if (event.key === "Enter" || event.key === " ") {
              event.preventDefault();
              this.choose(i, available);
            }
          },
        },
        h("span", { class: "cam-name" }, names[i]),
        h("span", { class: "cam-prob" }, p === null ? `#${i}` : formatPercent(p)),
        p === null ? null : h("div", { class: "cam-bar" }, h("div", { style: { width: `${Math.max(0, Math.min(1, p)) * 100}%` } })),
      );
    });
    this.shown = indices;
    this.active = -1;
    if (!rows.length) rows.push(h("li", { class: "cam-more" }, "No class matches."));
    if (more > 0) rows.push(h("li", { class: "cam-more" }, `… ${more} more: refine the search`));
    setChildren(this.list, rows);
  }
}
