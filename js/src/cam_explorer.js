// CAMExplorer front end: one store of maps and photos per model, any number of views.
import { MapStore } from "./cam/map_store.js";
import { PhotoCache } from "./cam/photos.js";
import { ImageInfo } from "./cam/image_info.js";
import { renderExplorer } from "./cam/view.js";

const shared = new WeakMap();

/** The model's map store and photo cache, created on first use and wired to kernel messages. */
function sharedState(model) {
  let state = shared.get(model);
  if (state) return state;
  const offline = Boolean(model.get("_offline"));
  const store = new MapStore({
    send: (content) => model.send(content),
    offlineMaps: offline ? savedMaps(model) : null,
  });
  const info = new ImageInfo({ send: (content) => model.send(content), offline });
  const photos = new PhotoCache(model, info);
  const onMessage = (content, buffers) => info.receive(content, buffers) || store.receive(content, buffers);
  model.on("msg:custom", onMessage);
  model.on("change:_images", () => photos.clear());
  state = { store, photos, info, dispose: () => model.off("msg:custom", onMessage) };
  shared.set(model, state);
  return state;
}

/** Maps saved by export_state: { key: { shape, data } } from `_precomputed` and its shapes. */
function savedMaps(model) {
  const data = model.get("_precomputed") ?? {};
  const shapes = model.get("_precomputed_shapes") ?? {};
  const maps = {};
  for (const [key, value] of Object.entries(data)) {
    if (value && shapes[key]) maps[key] = { shape: shapes[key], data: value };
  }
  return maps;
}

export default {
  initialize({ model }) {
    sharedState(model);
  },
  render({ model, el }) {
    const { store, photos, info } = sharedState(model);
    return renderExplorer({ model, el, store, photos, info });
  },
};
