// A stand-in for the kernel-backed widget model: the subset of the Backbone/ipywidgets model that
// anywidget hands to widget code (get, set, save_changes, send, on, off), with nobody listening.
import { sameValue } from "./equality.js";

const OFFLINE_MESSAGE =
  "this is an offline nbviz report: there is no Python kernel to answer widget requests";

export class ReportModel {
  /** `widgetManager`: resolves other widgets of the report by id (child widgets); default: none. */
  constructor(state = {}, widgetManager = offlineWidgetManager) {
    this._state = { ...state };
    this.widget_manager = widgetManager;
    this._listeners = [];
    // What widget code tried to tell the (absent) kernel; kept for inspection and tests.
    this.sentMessages = [];
    this.savedChanges = 0;
  }

  get(name) {
    return this._state[name];
  }

  /** set(name, value) or set({name: value, ...}); fires change:<name> per changed key, then change. */
  set(nameOrValues, value) {
    const values = typeof nameOrValues === "string" ? { [nameOrValues]: value } : nameOrValues;
    const changed = [];
    for (const [name, next] of Object.entries(values ?? {})) {
      if (sameValue(this._state[name], next)) continue;
      this._state[name] = next;
      changed.push(name);
    }
    for (const name of changed) this.trigger(`change:${name}`, this, this._state[name]);
    if (changed.length) this.trigger("change", this);
  }

  /** Without a kernel there is nothing to synchronise: changes already live in this model. */
  save_changes() {
    this.savedChanges += 1;
  }

  /** Messages to the kernel go nowhere; widgets must not wait for replies when `_offline`. */
  send(content, callbacks, buffers) {
    this.sentMessages.push({ content, buffers: buffers ?? [] });
    if (this.sentMessages.length > 100) this.sentMessages.shift();
  }

  /** Subscribe; `names` may hold several space-separated events. `context` groups listeners. */
  on(names, callback, context = null) {
    if (typeof callback !== "function") throw new TypeError("model.on needs a callback function");
    for (const name of String(names).split(/\s+/).filter(Boolean)) {
      this._listeners.push({ name, callback, context });
    }
  }

  /** Unsubscribe every listener matching all given filters; null/undefined matches anything. */
  off(names = null, callback = null, context = null) {
    const wanted = names == null ? null : new Set(String(names).split(/\s+/).filter(Boolean));
    this._listeners = this._listeners.filter(
      (listener) =>
        !(
          (wanted === null || wanted.has(listener.name)) &&
          (callback == null || listener.callback === callback) &&
          (context == null || listener.context === context)
        ),
    );
  }

  trigger(name, ...args) {
    // Copy first: a callback may subscribe or unsubscribe while we iterate.
    for (const listener of [...this._listeners]) {
      if (listener.name === name) listener.callback.apply(listener.context ?? this, args);
    }
  }

  listenerCount(context = null) {
    return this._listeners.filter((l) => context == null || l.context === context).length;
  }

  /** The object widget code receives: listeners it adds are tagged with `context` for cleanup. */
  proxy(context) {
    return {
      get: (name) => this.get(name),
      set: (name, value) => this.set(name, value),
      save_changes: () => this.save_changes(),
      send: (content, callbacks, buffers) => this.send(content, callbacks, buffers),
      on: (name, callback) => this.on(name, callback, context),
      off: (name, callback) => this.off(name ?? null, callback ?? null, context),
      widget_manager: this.widget_manager,
    };
  }
}

export function offlineInvoke() {
  return Promise.reject(new Error(OFFLINE_MESSAGE));
}

const offlineWidgetManager = {
  async get_model() {
    throw new Error(OFFLINE_MESSAGE);
  },
};
