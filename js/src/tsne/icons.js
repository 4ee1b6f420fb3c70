// Inline SVG icons for the control bar (paths drawn on a 16 x 16 grid).
const PATHS = {
  play: "M4 2.5v11l9.5-5.5z",
  pause: "M3.5 2.5h3v11h-3zM9.5 2.5h3v11h-3z",
  stop: "M3 3h10v10H3z",
  step: "M3 2.5v11l7.5-5.5zM11 2.5h2.5v11H11z",
  restart: "M8 2a6 6 0 1 0 5.66 8h-2.2A4 4 0 1 1 8 4c1.1 0 2.1.45 2.83 1.17L8.5 7.5H14V2l-1.76 1.76A5.98 5.98 0 0 0 8 2z",
  fit: "M2 2h5v2H4v3H2zM9 2h5v5h-2V4H9zM2 9h2v3h3v2H2zM12 9h2v5H9v-2h3z",
  pan: "M8 1l2.5 2.5H9V7h3.5V5.5L15 8l-2.5 2.5V9H9v3.5h1.5L8 15l-2.5-2.5H7V9H3.5v1.5L1 8l2.5-2.5V7H7V3.5H5.5z",
  eye: "M8 3.5C4.4 3.5 1.6 6 .8 8c.8 2 3.6 4.5 7.2 4.5s6.4-2.5 7.2-4.5C14.4 6 11.6 3.5 8 3.5zm0 7.2A2.7 2.7 0 1 1 8 5.3a2.7 2.7 0 0 1 0 5.4zM8 6.6a1.4 1.4 0 1 0 0 2.8 1.4 1.4 0 0 0 0-2.8z",
  eyeOff: "M2.3 1.3 1.3 2.3l2.2 2.2C2.2 5.5 1.3 6.8.8 8c.8 2 3.6 4.5 7.2 4.5 1.2 0 2.3-.3 3.3-.8l2.4 2.4 1-1zM8 11.2A3.2 3.2 0 0 1 4.9 7.3l1.2 1.2A2 2 0 0 0 7.5 9.9l1.2 1.2c-.2.1-.5.1-.7.1zM8 3.5c-.9 0-1.8.2-2.6.5l1.5 1.5A3.2 3.2 0 0 1 11 9.4l2.3 2.3C14.3 10.7 15 9.4 15.2 8 14.4 6 11.6 3.5 8 3.5z",
  lasso: "M8 2C4.1 2 1.5 4 1.5 6.5c0 2 1.7 3.6 4.3 4.2-.2.8-.9 1.6-2.3 2.3l.6 1c2-.9 2.9-2 3.1-3.1H8c3.9 0 6.5-2 6.5-4.4S11.9 2 8 2zm0 7.4c-3.1 0-5-1.4-5-2.9s1.9-2.9 5-2.9 5 1.4 5 2.9-1.9 2.9-5 2.9z",
};

/** An <svg> element for icon `name`. */
export function icon(name) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("class", "icon");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", PATHS[name]);
  svg.appendChild(path);
  return svg;
}
