// Decoded photos of one widget model, shared by its views: each image is decoded once.
import { asBytes } from "../lib/dataview_float32.js";

export class PhotoCache {
  constructor(model) {
    this.model = model;
    this.bitmaps = new Map(); // index -> ImageBitmap
    this.pending = new Map(); // index -> Promise<ImageBitmap>
  }

  peek(index) {
    return this.bitmaps.get(index);
  }

  load(index) {
    if (this.pending.has(index)) return this.pending.get(index);
    const bytes = (this.model.get("_images") ?? [])[index];
    const mime = (this.model.get("_image_mimes") ?? [])[index] ?? "image/png";
    const promise = bytes
      ? createImageBitmap(new Blob([asBytes(bytes)], { type: mime })).then((bitmap) => {
          this.bitmaps.set(index, bitmap);
          return bitmap;
        })
      : Promise.reject(new Error(`there is no image ${index}`));
    this.pending.set(index, promise);
    return promise;
  }

  clear() {
    this.bitmaps.clear();
    this.pending.clear();
  }
}
