// The overlay over the main map that says what the map shown is waiting for: progress (with
// Cancel for slow methods), a failure with Try again, a cancelled map, or one a report lacks;
// a map estimated to take long, waiting for a click; and why a map that arrived is blank.
// Content is rebuilt only when what it says changes: progress updates change the panel in place,
// since a button replaced between mouse down and mouse up would swallow the user's click.
import { h, setChildren } from "./dom.js";
import { READY, COMPUTING, FAILED, CANCELLED, UNAVAILABLE } from "./map_store.js";

// Fast methods show a spinner only when their answer takes longer than this (ms).
const SPINNER_DELAY_MS = 200;

export class StatusOverlay {
  /** `root` carries data-status; `actions` = { retry(key), cancel(key) }. */
  constructor(node, root, actions) {
    this.node = node;
    this.root = root;
    this.actions = actions;
    this.shown = null; // signature of the content on screen
    this.computing = null;
    this.spinnerTimer = null;
  }

  /** Show `status` (a MapStore status) of map `key`; `info` = { slow }, `what` describes the map. */
  show(status, key, info, what) {
    clearTimeout(this.spinnerTimer);
    this.root.dataset.status = status.state;
    switch (status.state) {
      case COMPUTING:
        this.showComputing(status.progress, key, info.slow, what);
        return;
      case FAILED:
        this.showContent(`failed|${key}|${status.message}`, true, () => [
          h("div", {}, h("b", {}, `Could not compute ${what}.`)),
          h("div", { "data-role": "error-message" }, status.message),
          h("div", { class: "cam-row" }, h("button", { "data-role": "retry", onclick: () => this.actions.retry(key) }, "Try again")),
        ]);
        return;
      case CANCELLED:
        this.showContent(`cancelled|${key}`, false, () => [
          h("div", {}, `${what} was cancelled.`),
          h("div", { class: "cam-row" }, h("button", { "data-role": "retry", onclick: () => this.actions.retry(key) }, "Compute again")),
        ]);
        return;
      case UNAVAILABLE:
        this.showContent(`unavailable|${key}`, false, () => [h("div", {}, `${what} is not saved in this report. Choose an enabled option.`)]);
        return;
      case READY:
      default:
        this.hide();
    }
  }

  /** A map estimated to take long (`estimate`: "about 90 s"): started only when the user clicks. */
  showConfirm(key, what, estimate, start) {
    clearTimeout(this.spinnerTimer);
    this.root.dataset.status = "confirm";
    this.showContent(`confirm|${key}|${estimate}`, false, () => [
      h("div", {}, `${what} takes `, h("b", { "data-role": "estimate" }, estimate), " here."),
      h("div", { class: "cam-row" }, h("button", { "data-role": "confirm-compute", onclick: () => start() }, "Compute")),
    ]);
  }

  /** A map that arrived blank: say why (`reason`, from the engine), without hiding the photo. */
  showBlank(key, what, reason) {
    clearTimeout(this.spinnerTimer);
    this.root.dataset.status = "blank";
    this.showContent(`blank|${key}|${reason}`, false, () => [
      h("div", {}, h("b", {}, `${what} is blank:`)),
      h("div", { "data-role": "blank-reason" }, reason),
    ]);
  }

  /** A message of the view itself (e.g. a photo that could not be decoded). */
  showMessage(kind, text) {
    this.root.dataset.status = kind;
    this.showContent(`message|${kind}|${text}`, kind === "error", () => [h("div", {}, text)]);
  }

  showComputing(progress, key, slow, what) {
    const panel = this.computingPanel(key, slow);
    panel.bar.classList.toggle("cam-indeterminate", !progress);
    panel.bar.firstChild.style.width = progress ? `${(100 * progress.done) / Math.max(1, progress.total)}%` : "";
    panel.label.textContent = progress ? `${what}: ${progress.done} / ${progress.total}` : `Computing ${what}…`;
    if (!this.node.hidden && this.node.firstChild === panel.nodes[0]) return;
    if (slow || progress) {
      this.showContent(panel.signature, false, () => panel.nodes);
    } else {
      this.hide();
      this.spinnerTimer = setTimeout(() => this.showContent(panel.signature, false, () => panel.nodes), SPINNER_DELAY_MS);
    }
  }

  /** The label, progress bar and (slow methods) Cancel button shown while `key` computes; one per key. */
  computingPanel(key, slow) {
    if (this.computing?.key === key && this.computing.slow === slow) return this.computing;
    const label = h("div");
    const bar = h("div", { class: "cam-progress", "data-role": "progress" }, h("div"));
    const cancel = slow ? h("button", { "data-role": "cancel", onclick: () => this.actions.cancel(key) }, "Cancel") : null;
    const nodes = [label, h("div", { class: "cam-row" }, bar, cancel)];
    this.computing = { key, slow, label, bar, nodes, signature: `computing|${key}|${slow}` };
    return this.computing;
  }

  /** Show the nodes `build()` makes, rebuilt only when `signature` differs from what is shown. */
  showContent(signature, isError, build) {
    this.node.classList.toggle("cam-error", isError);
    if (this.shown !== signature || this.node.hidden) {
      setChildren(this.node, build());
      this.shown = signature;
    }
    this.node.hidden = false;
  }

  /** Hide the overlay (the map is ready, or nothing is asked for). */
  hide() {
    this.node.hidden = true;
    this.shown = null;
  }

  /** Cancel a pending spinner. */
  dispose() {
    clearTimeout(this.spinnerTimer);
  }
}
