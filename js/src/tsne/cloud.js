// The 3-D view's state changes: turning the orbit camera (both layouts projected again) and the
// unprojected layout on screen, which the focused point's kept-neighbour count searches.
import { project } from "./orbit.js";

/** Turn `view`'s 3-D camera to `orbit` ({yaw, pitch}) and project both layouts again. */
export function setOrbit(view, orbit) {
  view.orbit = orbit;
  if (view.raw3) view.showLayout(view.raw3);
  if (view.pca3) {
    view.pca = project(view.pca3, orbit, view.pca);
    if (view.renderer) view.renderer.setMorphTarget(view.pca, view.pcaNorm);
  }
  view.requestDraw();
}

/** The layout on screen before projection and its coordinates per point (2, or 3 in 3-D). */
export function layoutInDims(view) {
  if (view.dims === 2) return { xy: view.hitLayout().xy, dims: 2 };
  return { xy: view.morph.value > 0.5 && view.pca3 ? view.pca3 : view.raw3, dims: 3 };
}
