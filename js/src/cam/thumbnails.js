// The strip of image thumbnails under the explorer (shown with two or more images); a click
// selects that image.
import { asBytes } from "../lib/dataview_float32.js";
import { h, setChildren } from "./dom.js";

export class ThumbnailStrip {
  /** `onSelect(i)`: the user picked image i. */
  constructor(onSelect) {
    this.onSelect = onSelect;
    this.node = h("div", { class: "cam-thumbs", "data-role": "thumbnails", hidden: true });
    this.urls = [];
    this.images = null;
  }

  /** Show `images` (encoded bytes, with their names and MIME types), marking `selected`. */
  update({ images, names, mimes, selected }) {
    this.node.hidden = images.length < 2;
    if (images.length < 2) return;
    if (images !== this.images) {
      this.images = images;
      this.revoke();
      this.urls = images.map((bytes, i) => URL.createObjectURL(new Blob([asBytes(bytes)], { type: mimes[i] ?? "image/png" })));
      setChildren(this.node, this.urls.map((url, i) => h(
        "button",
        { class: "cam-thumb", "data-image": String(i), title: names[i] ?? `Image ${i}`, onclick: () => this.onSelect(i) },
        h("img", { src: url, alt: names[i] ?? `Image ${i}` }),
      )));
    }
    [...this.node.children].forEach((button, i) => button.classList.toggle("cam-selected", i === selected));
  }

  /** Release the thumbnails' object URLs. */
  revoke() {
    this.urls.forEach((url) => URL.revokeObjectURL(url));
    this.urls = [];
  }
}
