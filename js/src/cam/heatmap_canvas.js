// A canvas showing the photo with a coloured map over it. The map arrives at feature resolution;
// it is upsampled (bilinear, as torch) to the canvas's backing pixels, coloured through a LUT,
// and composited over the photo with the chosen opacity.
import { applyLut } from "../lib/colormap_lut.js";
import { upsampleBilinear } from "./upsample.js";

export class HeatmapCanvas {
  /** cssWidth: displayed width in CSS pixels; the height follows the photo's aspect ratio. */
  constructor(canvas, cssWidth) {
    this.canvas = canvas;
    this.cssWidth = cssWidth;
    this.photo = null;
    this.map = null;
    this.lut = null;
    this.threshold = 0;
    this.opacity = 0.5;
    this.upsampled = null; // values at backing resolution, for colouring and the hover readout
    this.layer = document.createElement("canvas");
    this.layerValid = false;
    this.resize(cssWidth * 0.75);
  }

  resize(cssHeight) {
    const ratio = Math.min(Math.max(window.devicePixelRatio || 1, 1), 2);
    const width = Math.round(this.cssWidth * ratio);
    const height = Math.round(cssHeight * ratio);
    this.cssHeight = cssHeight;
    this.canvas.style.width = `${this.cssWidth}px`;
    this.canvas.style.height = `${cssHeight}px`;
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
      this.layer.width = width;
      this.layer.height = height;
      this.upsampled = null;
      this.layerValid = false;
    }
  }

  setPhoto(bitmap) {
    if (bitmap === this.photo) return;
    this.photo = bitmap;
    if (bitmap) this.resize(Math.round((this.cssWidth * bitmap.height) / bitmap.width));
  }

  /** entry: { shape: [h, w], values: Float32Array } or null for the photo alone. */
  setMap(entry) {
    if (entry === this.map) return;
    this.map = entry;
    this.upsampled = null;
    this.layerValid = false;
  }

  setStyle({ lut, threshold, opacity }) {
    if (lut !== this.lut || threshold !== this.threshold) this.layerValid = false;
    this.lut = lut;
    this.threshold = threshold;
    this.opacity = opacity;
  }

  /** Composite photo and map onto the visible canvas. */
  draw() {
    const { width, height } = this.canvas;
    const ctx = this.canvas.getContext("2d");
    ctx.clearRect(0, 0, width, height);
    if (this.photo) {
      ctx.imageSmoothingQuality = "high";
      ctx.drawImage(this.photo, 0, 0, width, height);
    }
    if (!this.map || !this.lut) return;
    if (!this.layerValid) this.paintLayer();
    ctx.globalAlpha = this.opacity;
    ctx.drawImage(this.layer, 0, 0);
    ctx.globalAlpha = 1;
  }

  paintLayer() {
    const { width, height } = this.layer;
    if (!this.upsampled) {
      const [h, w] = this.map.shape;
      this.upsampled = upsampleBilinear(this.map.values, h, w, height, width);
    }
    const image = new ImageData(width, height);
    applyLut(this.upsampled, this.lut, this.threshold, image.data);
    this.layer.getContext("2d").putImageData(image, 0, 0);
    this.layerValid = true;
  }

  /** Map value under a point given in CSS pixels from the canvas's top-left, or null. */
  valueAt(cssX, cssY) {
    if (!this.map) return null;
    if (!this.upsampled) this.paintLayer();
    const x = Math.floor((cssX / this.cssWidth) * this.canvas.width);
    const y = Math.floor((cssY / this.cssHeight) * this.canvas.height);
    if (x < 0 || y < 0 || x >= this.canvas.width || y >= this.canvas.height) return null;
    return this.upsampled[y * this.canvas.width + x];
  }

  /** Feature-map cell (row, column) under a point in CSS pixels. */
  cellAt(cssX, cssY) {
    if (!this.map) return null;
    const [h, w] = this.map.shape;
    return [Math.min(h - 1, Math.floor((cssY / this.cssHeight) * h)), Math.min(w - 1, Math.floor((cssX / this.cssWidth) * w))];
  }
}
