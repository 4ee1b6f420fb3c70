// A small WebGL point renderer built for streaming: positions live in a DYNAMIC vertex buffer
// that each new frame overwrites in place (bufferSubData); colours and selection states are
// separate static buffers touched only when labels, the selection, the highlight or the hidden
// labels change (one state byte per point, POINT_STATE bits). Nothing else is
// rebuilt per frame. A second position buffer (the PCA layout) lets the shader morph between
// the two layouts with one uniform.

const VERTEX_SHADER = `
precision highp float;
attribute vec2 a_pos0;
attribute vec2 a_pos1;
attribute vec4 a_color;
attribute float a_state;
uniform vec3 u_norm0;      // cx, cy, scale of layout 0
uniform vec3 u_norm1;      // cx, cy, scale of layout 1
uniform float u_mix;       // 0: layout 0, 1: layout 1
uniform vec3 u_camera;     // k, tx, ty
uniform vec2 u_toClip;     // world unit -> clip units at k = 1, per axis
uniform float u_size;
uniform float u_opacity;
uniform float u_hasSelection;
uniform float u_hasHighlight;
varying vec4 v_color;
varying float v_ring;
void main() {
  // a_state bits (POINT_STATE): 1 selected, 2 highlighted, 4 hidden, 8 ringed.
  float ringed = step(7.5, a_state);
  float unringed = a_state - 8.0 * ringed;
  float hidden = step(3.5, unringed);
  float rest = unringed - 4.0 * hidden;
  float highlighted = step(1.5, rest);
  float selected = step(0.5, rest - 2.0 * highlighted);
  vec2 w0 = (a_pos0 - u_norm0.xy) * u_norm0.z;
  vec2 w1 = (a_pos1 - u_norm1.xy) * u_norm1.z;
  vec2 world = mix(w0, w1, u_mix);
  // Hidden points land outside the clip volume and are not drawn.
  gl_Position = vec4((world + u_camera.yz) * u_camera.x * u_toClip, 0.0, 1.0) + vec4(0.0, 0.0, 2.0 * hidden, 0.0);
  float picked = max(u_hasSelection * selected, u_hasHighlight * highlighted);
  float dim = max(u_hasSelection * (1.0 - selected), u_hasHighlight * (1.0 - highlighted));
  vec3 rgb = mix(a_color.rgb, vec3(0.70, 0.72, 0.76), dim * 0.6);
  v_color = vec4(rgb, mix(u_opacity, 1.0, u_hasHighlight * highlighted) * mix(1.0, 0.45 - 0.25 * u_hasHighlight, dim));
  v_ring = ringed;
  // A ringed point is drawn larger (at least 8 px) so its dark ring stays visible around its colour.
  gl_PointSize = mix(u_size * mix(1.0, 1.35, picked), max(8.0, 1.8 * u_size), ringed) * (1.0 - hidden);
}`;

/** Bits of the per-point state byte. */
export const POINT_STATE = Object.freeze({ selected: 1, highlighted: 2, hidden: 4, ringed: 8 });

// Round, softly edged discs for points large enough to show a shape.
const ROUND_FRAGMENT_SHADER = `
precision mediump float;
varying vec4 v_color;
varying float v_ring;
void main() {
  vec2 d = gl_PointCoord * 2.0 - 1.0;
  float r2 = dot(d, d);
  if (r2 > 1.0) discard;
  if (v_ring > 0.5 && r2 > 0.36) { gl_FragColor = vec4(0.08, 0.08, 0.1, 1.0); return; }
  gl_FragColor = vec4(v_color.rgb, v_color.a * (1.0 - smoothstep(0.55, 1.0, r2)));
}`;

// Below ROUND_MIN_PX a disc and a square cover the same pixels; skip the per-fragment work.
const SQUARE_FRAGMENT_SHADER = `
precision mediump float;
varying vec4 v_color;
void main() { gl_FragColor = v_color; }`;

export const ROUND_MIN_PX = 3;

// The cached image of a static layout, drawn as one textured quad while the camera moves:
// clip1 = clip0 * (k1 / k0) + (t1 - t0) * k1 * toClip maps where the cache drew (camera 0) to
// where the same world point belongs now (camera 1).
const QUAD_VERTEX_SHADER = `
attribute vec2 a_corner;
uniform vec2 u_scale;
uniform vec2 u_offset;
varying vec2 v_uv;
void main() {
  v_uv = a_corner * 0.5 + 0.5;
  gl_Position = vec4(a_corner * u_scale + u_offset, 0.0, 1.0);
}`;
const QUAD_FRAGMENT_SHADER = `
precision mediump float;
uniform sampler2D u_image;
varying vec2 v_uv;
void main() { gl_FragColor = texture2D(u_image, v_uv); }`;

function compile(gl, type, source) {
  const shader = gl.createShader(type);
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) {
    throw new Error(`WebGL shader failed to compile: ${gl.getShaderInfoLog(shader)}`);
  }
  return shader;
}

export class PointRenderer {
  /** Throws a readable Error when the browser has no WebGL. */
  constructor(canvas) {
    // No preserveDrawingBuffer: it costs a full-canvas copy per frame (measured ~20% at 10k points).
    // An opaque canvas: the compositor then needs no alpha conversion pass per frame.
    const gl = canvas.getContext("webgl", { antialias: false, alpha: false });
    if (!gl) throw new Error("This browser has no WebGL, which the t-SNE scatter needs to draw points.");
    this.gl = gl;
    this.canvas = canvas;
    this.programs = {
      round: this.link(ROUND_FRAGMENT_SHADER),
      square: this.link(SQUARE_FRAGMENT_SHADER),
    };
    this.buffers = {
      pos0: gl.createBuffer(), pos1: gl.createBuffer(), color: gl.createBuffer(), state: gl.createBuffer(),
      order: gl.createBuffer(),
    };
    // 32-bit draw-order indices (3-D clouds beyond 65,536 points); WebGL 1 has them as an extension.
    this.uintIndices = Boolean(gl.getExtension("OES_element_index_uint"));
    this.ordered = false;
    this.capacity = { pos0: 0, pos1: 0, color: 0, state: 0 };
    this.count = 0;
    this.norm0 = { cx: 0, cy: 0, scale: 1 };
    this.norm1 = { cx: 0, cy: 0, scale: 1 };
    this.mix = 0;
    this.hasSelection = false;
    this.pointSize = 4;
    this.opacity = 0.85;
    this.background = [1, 1, 1, 1];
    this.version = 0; // bumped by every change that alters the drawn image except the camera
    this.cache = null;
    gl.enable(gl.BLEND);
    // Colour "over" blending: out = a * src + (1 - a) * dst on the white background.
    gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);
    gl.disable(gl.DEPTH_TEST);
  }

  /** Compile and link the shared vertex shader with `fragmentSource`; look up its inputs. */
  link(fragmentSource) {
    const gl = this.gl;
    const program = gl.createProgram();
    gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, VERTEX_SHADER));
    gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, fragmentSource));
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) {
      throw new Error(`WebGL program failed to link: ${gl.getProgramInfoLog(program)}`);
    }
    const attributes = {};
    for (const name of ["a_pos0", "a_pos1", "a_color", "a_state"]) attributes[name] = gl.getAttribLocation(program, name);
    const uniforms = {};
    for (const name of ["u_norm0", "u_norm1", "u_mix", "u_camera", "u_toClip", "u_size", "u_opacity", "u_hasSelection", "u_hasHighlight"]) {
      uniforms[name] = gl.getUniformLocation(program, name);
    }
    return { program, attributes, uniforms };
  }

  /** Upload bytes into a named buffer: in place when it fits, reallocating only when it grows. */
  upload(name, data, usage) {
    const gl = this.gl;
    this.version += 1;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.buffers[name]);
    if (data.byteLength === this.capacity[name]) {
      gl.bufferSubData(gl.ARRAY_BUFFER, 0, data);
    } else {
      gl.bufferData(gl.ARRAY_BUFFER, data, usage);
      this.capacity[name] = data.byteLength;
    }
  }

  /** New positions for layout 0 (the streamed / replayed one): overwritten in place. */
  setPositions(xy, norm) {
    this.count = xy.length / 2;
    this.upload("pos0", xy, this.gl.DYNAMIC_DRAW);
    this.norm0 = norm;
  }

  /** The order to draw points in (a Uint32Array of indices, e.g. back to front in 3-D), or null
   * for index order. Without 32-bit indices in this browser, clouds above 65,536 points keep
   * index order. */
  setDrawOrder(order) {
    const gl = this.gl;
    this.ordered = Boolean(order) && (this.uintIndices || order.length <= 65536);
    if (!this.ordered) return;
    const indices = this.uintIndices ? order : Uint16Array.from(order);
    this.version += 1;
    gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, this.buffers.order);
    gl.bufferData(gl.ELEMENT_ARRAY_BUFFER, indices, gl.DYNAMIC_DRAW);
    this.orderType = this.uintIndices ? gl.UNSIGNED_INT : gl.UNSIGNED_SHORT;
  }

  /** Positions of layout 1 (the PCA start), the morph target. */
  setMorphTarget(xy, norm) {
    this.upload("pos1", xy, this.gl.STATIC_DRAW);
    this.norm1 = norm;
  }

  /** Per-point RGBA bytes. */
  setColors(rgba) {
    this.upload("color", rgba, this.gl.STATIC_DRAW);
  }

  /** Per-point state bytes (POINT_STATE bits) and whether any point is selected / highlighted. */
  setStates(states, { anySelected, anyHighlighted, anyRinged = false }) {
    this.upload("state", states, this.gl.STATIC_DRAW);
    this.hasSelection = anySelected;
    this.hasHighlight = anyHighlighted;
    this.hasRing = anyRinged;
  }

  resize(width, height, ratio) {
    const w = Math.max(1, Math.round(width * ratio));
    const h = Math.max(1, Math.round(height * ratio));
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    this.cssWidth = width;
    this.cssHeight = height;
    this.ratio = ratio;
  }

  bindAttribute(attributes, name, buffer, size, type, normalized) {
    const gl = this.gl;
    const location = attributes[name];
    if (location < 0) return;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.buffers[buffer]);
    gl.enableVertexAttribArray(location);
    gl.vertexAttribPointer(location, size, type, normalized, 0, 0);
  }

  /** Everything but the camera that decides the image: a cache made under another key is stale. */
  imageKey() {
    return [this.version, this.mix, this.pointSize, this.opacity, this.hasSelection, this.hasHighlight, this.canvas.width,
      this.canvas.height].join();
  }

  /** True when the cached image shows the current points (at whatever camera it was made). */
  cacheValid() {
    return Boolean(this.cache && this.cache.key === this.imageKey());
  }

  /** Draw the points once into an offscreen texture at `camera`, for drawCached to move around. */
  renderCache(camera, margin) {
    const gl = this.gl;
    const { width, height } = this.canvas;
    if (!this.cache || this.cache.width !== width || this.cache.height !== height) this.createCache(width, height);
    gl.bindFramebuffer(gl.FRAMEBUFFER, this.cache.framebuffer);
    this.draw(camera, margin);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    this.cache.camera = { ...camera };
    this.cache.key = this.imageKey();
  }

  createCache(width, height) {
    const gl = this.gl;
    if (this.cache) { gl.deleteTexture(this.cache.texture); gl.deleteFramebuffer(this.cache.framebuffer); }
    const texture = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, width, height, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
    for (const [key, value] of [[gl.TEXTURE_MIN_FILTER, gl.LINEAR], [gl.TEXTURE_MAG_FILTER, gl.LINEAR],
      [gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE], [gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE]]) {
      gl.texParameteri(gl.TEXTURE_2D, key, value);
    }
    const framebuffer = gl.createFramebuffer();
    gl.bindFramebuffer(gl.FRAMEBUFFER, framebuffer);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture, 0);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    if (!this.quad) {
      const program = gl.createProgram();
      gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, QUAD_VERTEX_SHADER));
      gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, QUAD_FRAGMENT_SHADER));
      gl.linkProgram(program);
      const corners = gl.createBuffer();
      gl.bindBuffer(gl.ARRAY_BUFFER, corners);
      gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
      this.quad = {
        program, corners, corner: gl.getAttribLocation(program, "a_corner"),
        scale: gl.getUniformLocation(program, "u_scale"), offset: gl.getUniformLocation(program, "u_offset"),
      };
    }
    this.cache = { texture, framebuffer, width, height, camera: null, key: null };
  }

  /** Show the cached image moved from its camera to `camera` (one quad: cheap at any N). */
  drawCached(camera, margin) {
    const gl = this.gl;
    const { width, height } = this.canvas;
    const c0 = this.cache.camera;
    const shortSide = Math.min(width, height) * margin;
    const toClip = [shortSide / width, shortSide / height];
    const ratio = camera.k / c0.k;
    gl.viewport(0, 0, width, height);
    gl.clearColor(...this.background);
    gl.clear(gl.COLOR_BUFFER_BIT);
    gl.disable(gl.BLEND);
    gl.useProgram(this.quad.program);
    for (let i = 0; i < 4; i += 1) gl.disableVertexAttribArray(i);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.quad.corners);
    gl.enableVertexAttribArray(this.quad.corner);
    gl.vertexAttribPointer(this.quad.corner, 2, gl.FLOAT, false, 0, 0);
    gl.bindTexture(gl.TEXTURE_2D, this.cache.texture);
    gl.uniform2f(this.quad.scale, ratio, ratio);
    gl.uniform2f(this.quad.offset, (camera.tx - c0.tx) * camera.k * toClip[0], (camera.ty - c0.ty) * camera.k * toClip[1]);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    gl.enable(gl.BLEND);
  }

  /** Draw all points with `camera` ({k, tx, ty}); see geometry.js for the transform. */
  draw(camera, margin) {
    const gl = this.gl;
    const { width, height } = this.canvas;
    gl.viewport(0, 0, width, height);
    gl.clearColor(...this.background);
    gl.clear(gl.COLOR_BUFFER_BIT);
    if (!this.count || this.capacity.color < this.count * 4 || this.capacity.state < this.count
        || this.capacity.pos1 < this.count * 8) return;
    const sizePx = this.pointSize * (this.ratio || 1);
    // Rings need the round program's per-fragment shape, whatever the point size.
    const round = sizePx >= ROUND_MIN_PX || this.hasRing;
    const { program, attributes, uniforms: u } = round ? this.programs.round : this.programs.square;
    gl.useProgram(program);
    this.bindAttribute(attributes, "a_pos0", "pos0", 2, gl.FLOAT, false);
    this.bindAttribute(attributes, "a_pos1", "pos1", 2, gl.FLOAT, false);
    this.bindAttribute(attributes, "a_color", "color", 4, gl.UNSIGNED_BYTE, true);
    this.bindAttribute(attributes, "a_state", "state", 1, gl.UNSIGNED_BYTE, false);
    const shortSide = Math.min(width, height) * margin;
    gl.uniform3f(u.u_norm0, this.norm0.cx, this.norm0.cy, this.norm0.scale);
    gl.uniform3f(u.u_norm1, this.norm1.cx, this.norm1.cy, this.norm1.scale);
    gl.uniform1f(u.u_mix, this.mix);
    gl.uniform3f(u.u_camera, camera.k, camera.tx, camera.ty);
    gl.uniform2f(u.u_toClip, shortSide / width, shortSide / height);
    gl.uniform1f(u.u_size, sizePx);
    gl.uniform1f(u.u_opacity, this.opacity);
    gl.uniform1f(u.u_hasSelection, this.hasSelection ? 1 : 0);
    gl.uniform1f(u.u_hasHighlight, this.hasHighlight ? 1 : 0);
    if (this.ordered) {
      gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, this.buffers.order);
      gl.drawElements(gl.POINTS, this.count, this.orderType, 0);
    } else {
      gl.drawArrays(gl.POINTS, 0, this.count);
    }
  }

  /** Block until every queued draw has run (one-pixel read-back); for measurements. */
  finish() {
    const pixel = new Uint8Array(4);
    this.gl.readPixels(0, 0, 1, 1, this.gl.RGBA, this.gl.UNSIGNED_BYTE, pixel);
  }

  dispose() {
    const gl = this.gl;
    for (const buffer of Object.values(this.buffers)) gl.deleteBuffer(buffer);
    for (const { program } of Object.values(this.programs)) gl.deleteProgram(program);
    if (this.cache) { gl.deleteTexture(this.cache.texture); gl.deleteFramebuffer(this.cache.framebuffer); }
    const lose = gl.getExtension("WEBGL_lose_context");
    if (lose) lose.loseContext();
  }
}
