// Decoded photos of one widget model, shared by its views: each image is decoded once.
import { asBytes } from "../lib/dataview_float32.js";

export class PhotoCache {
  /** `info`: the ImageInfo that fetches photos of a lazy collection (absent from `_images`). */
  constructor(model, info) {
    this.model = model;
    this.info = info;
    this.bitmaps = new Map(); // index -> ImageBitmap
    this.pending = new Map(); // index -> Promise<ImageBitmap>
  }

  peek(index) {
    return this.bitmaps.get(index);
  }

  load(index) {
    if (this.pending.has(index)) return this.pending.get(index);
    const bytes = (this.model.get("_images") ?? [])[index];
    const mime = (this.model.get("_image_mimes") ?? [])[index] || "image/png";
    const encoded = bytes?.byteLength
      ? Promise.resolve({ bytes, mime })
      : index < (this.model.get("_n_images") ?? 0) && this.info
        ? this.info.fetch(index)
        : Promise.reject(new Error(`there is no image ${index}`));
    const promise = encoded.then(({ bytes: data, mime: type }) => createImageBitmap(new Blob([asBytes(data)], { type })))
      .then((bitmap) => {
        this.bitmaps.set(index, bitmap);
        return bitmap;
      });
    promise.catch(() => this.pending.delete(index)); // a later view may ask again
    this.pending.set(index, promise);
    return promise;
  }

  clear() {
    this.bitmaps.clear();
    this.pending.clear();
  }
}
