// Hover: the nearest point under the cursor (through a grid index built once the layout rests)
// and its tooltip with thumbnail, text and label.
import { element, swatchColor } from "./controls.js";
import { pixelsPerUnit, screenToWorld } from "./geometry.js";
import { GridIndex } from "./spatial_index.js";
import { asUint8 } from "./streaming.js";

const THUMB_PX = 64;
const OFFSET_PX = 14;

export class HoverTooltip {
  /** `view` supplies the layout on screen, the camera, the plot size and the point data. */
  constructor(view, node) {
    this.view = view;
    this.node = node;
    this.thumb = element("canvas");
    this.body = element("div");
    node.append(this.thumb, this.body);
    this.index = null;
    this.indexKey = null;
    this.hovered = -1;
  }

  /** Forget the hover index: the layout on screen changed. */
  invalidate() {
    this.index = null;
  }

  /** Show the tooltip of the point nearest the plot position [sx, sy], if one is close enough. */
  hover([sx, sy]) {
    const view = this.view;
    if (!view.displayed || !view.layoutIsStatic()) { this.hide(); return; }
    const layout = view.hitLayout();
    if (!this.index || this.indexKey !== layout.key) {
      this.index = new GridIndex(layout.xy, layout.norm, layout.depth);
      this.indexKey = layout.key;
    }
    const [wx, wy] = screenToWorld(view.camera, view.width, view.height, sx, sy);
    const radiusPx = Math.max(6, view.pointSize() / 2 + 3);
    const perUnit = pixelsPerUnit(view.camera, view.width, view.height);
    // In 3-D the point drawn on top under the cursor wins over a nearer-centred one behind it.
    const i = this.index.nearest(wx, wy, radiusPx / perUnit, view.pointSize() / 2 / perUnit);
    if (i < 0 || !view.labels.isVisible(i)) { this.hide(); return; }
    if (i !== this.hovered) { this.hovered = i; this.fill(i); view.drawOverlay(); view.noteHover(i); }
    const tip = this.node;
    tip.style.display = "flex";
    const left = sx + OFFSET_PX + tip.offsetWidth > view.width ? sx - OFFSET_PX - tip.offsetWidth : sx + OFFSET_PX;
    const top = sy + OFFSET_PX + tip.offsetHeight > view.height ? sy - OFFSET_PX - tip.offsetHeight : sy + OFFSET_PX;
    tip.style.left = `${Math.max(4, left)}px`;
    tip.style.top = `${Math.max(4, top)}px`;
  }

  /** Hide the tooltip and the hover ring. */
  hide() {
    this.node.style.display = "none";
    if (this.hovered >= 0) { this.hovered = -1; this.view.drawOverlay(); }
  }

  /** Fill the tooltip with point i's thumbnail, text and label. */
  fill(i) {
    const model = this.view.model;
    this.fillThumbnail(i, asUint8(model.get("thumbnails")), model.get("thumbnail_shape") || [0, 0]);
    const body = this.body;
    body.replaceChildren();
    const text = (model.get("texts") || [])[i];
    if (text) body.appendChild(element("div", "text", text));
    const meta = element("div", "meta");
    const { codes, names: labelNames } = this.view.labels;
    if (codes) {
      const swatch = element("span", "swatch");
      swatch.style.background = swatchColor(codes[i], labelNames.length);
      meta.append(swatch, element("span", "", labelNames[codes[i]]), element("span", "", "·"));
    }
    meta.appendChild(element("span", "", `point ${i}`));
    body.appendChild(meta);
    this.node.dataset.index = String(i);
  }

  /** Thumbnail i of an N x h x w x 4 RGBA blob, drawn at THUMB_PX on its longer side. */
  fillThumbnail(i, thumbnails, [h, w]) {
    const has = h > 0 && w > 0 && thumbnails.length >= (i + 1) * h * w * 4;
    this.thumb.style.display = has ? "" : "none";
    if (!has) return;
    this.thumb.width = w;
    this.thumb.height = h;
    const pixels = new Uint8ClampedArray(thumbnails.buffer, thumbnails.byteOffset + i * h * w * 4, h * w * 4);
    this.thumb.getContext("2d").putImageData(new ImageData(new Uint8ClampedArray(pixels), w, h), 0, 0);
    this.thumb.style.width = `${Math.round((THUMB_PX * w) / Math.max(h, w))}px`;
    this.thumb.style.height = `${Math.round((THUMB_PX * h) / Math.max(h, w))}px`;
  }
}
