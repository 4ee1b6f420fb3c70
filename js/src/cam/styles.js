// Styles of the explorer, scoped under .nbviz-cam. JupyterLab theme variables with fallbacks, so
// it matches the notebook's theme and still looks right in a standalone report.
export const STYLE_ID = "nbviz-cam-style-v2";

export const CSS = `
.nbviz-cam {
  --cam-fg: var(--jp-ui-font-color1, #1f2328);
  --cam-fg2: var(--jp-ui-font-color2, #59636e);
  --cam-bg: var(--jp-layout-color0, #ffffff);
  --cam-bg2: var(--jp-layout-color2, #f0f2f5);
  --cam-border: var(--jp-border-color1, #d0d7de);
  --cam-border2: var(--jp-border-color2, #e4e8ec);
  --cam-accent: var(--jp-brand-color1, #1976d2);
  --cam-accent-bg: var(--jp-brand-color4, #e3f0fc);
  --cam-error: var(--jp-error-color1, #d32f2f);
  --cam-error-bg: var(--jp-error-color3, #fdecea);
  font-family: var(--jp-ui-font-family, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
  font-size: 13px;
  line-height: 1.4;
  color: var(--cam-fg);
  background: var(--cam-bg);
  border: 1px solid var(--cam-border2);
  border-radius: 8px;
  padding: 12px;
  display: inline-flex;
  flex-direction: column;
  gap: 10px;
  max-width: 100%;
  box-sizing: border-box;
}
.nbviz-cam * { box-sizing: border-box; }
.nbviz-cam .cam-toolbar { display: flex; flex-wrap: wrap; align-items: flex-end; gap: 10px; }
.nbviz-cam .cam-field { display: flex; flex-direction: column; gap: 3px; min-width: 0; }
.nbviz-cam .cam-field > span { font-size: 11px; font-weight: 600; letter-spacing: .02em; text-transform: uppercase; color: var(--cam-fg2); }
.nbviz-cam select, .nbviz-cam input[type=search], .nbviz-cam button {
  font: inherit; color: var(--cam-fg); background: var(--cam-bg);
  border: 1px solid var(--cam-border); border-radius: 5px; height: 28px; padding: 0 8px;
}
.nbviz-cam select { padding-right: 4px; }
.nbviz-cam select[data-role=layer] { width: 150px; }
.nbviz-cam select[data-role=method] { width: auto; min-width: 168px; max-width: 210px; }
.nbviz-cam select[data-role=colormap] { width: 92px; }
.nbviz-cam button { cursor: pointer; white-space: nowrap; }
.nbviz-cam button:hover:not(:disabled) { background: var(--cam-bg2); }
.nbviz-cam button:disabled { opacity: .5; cursor: default; }
.nbviz-cam button.cam-on { background: var(--cam-accent-bg); border-color: var(--cam-accent); color: var(--cam-accent); }
.nbviz-cam select:focus-visible, .nbviz-cam input:focus-visible, .nbviz-cam button:focus-visible { outline: 2px solid var(--cam-accent); outline-offset: 1px; }
.nbviz-cam .cam-spacer { flex: 1 1 auto; }
.nbviz-cam .cam-body { display: flex; gap: 12px; align-items: flex-start; }
.nbviz-cam .cam-stage { display: flex; flex-direction: column; gap: 6px; }
.nbviz-cam .cam-canvas-wrap { position: relative; border-radius: 6px; overflow: hidden; background: var(--cam-bg2); line-height: 0; }
.nbviz-cam canvas.cam-main { display: block; cursor: crosshair; }
.nbviz-cam .cam-overlay {
  position: absolute; left: 8px; right: 8px; bottom: 8px; line-height: 1.4;
  padding: 8px 10px; border-radius: 6px; font-size: 12.5px;
  background: rgba(255,255,255,.94); color: #1f2328; box-shadow: 0 1px 4px rgba(0,0,0,.25);
  display: flex; flex-direction: column; gap: 6px;
}
.nbviz-cam .cam-overlay[hidden] { display: none; }
.nbviz-cam .cam-overlay.cam-error { background: #fdecea; color: #8a1c1c; border-left: 4px solid #d32f2f; }
.nbviz-cam .cam-overlay .cam-row { display: flex; align-items: center; gap: 8px; }
.nbviz-cam .cam-overlay button { height: 24px; font-size: 12px; background: #fff; color: #1f2328; border-color: #c4c9cf; }
.nbviz-cam .cam-progress { flex: 1; height: 6px; border-radius: 3px; background: #e1e4e8; overflow: hidden; }
.nbviz-cam .cam-progress > div { height: 100%; width: 0; background: var(--cam-accent); transition: width .12s linear; }
.nbviz-cam .cam-progress.cam-indeterminate > div { width: 30%; animation: nbviz-cam-slide 1.1s ease-in-out infinite; }
@keyframes nbviz-cam-slide { from { transform: translateX(-100%); } to { transform: translateX(340%); } }
.nbviz-cam .cam-legend { display: flex; align-items: center; gap: 6px; font-size: 11px; color: var(--cam-fg2); }
.nbviz-cam .cam-colorbar { position: relative; flex: 1; height: 8px; border-radius: 4px; }
.nbviz-cam .cam-colorbar > i { position: absolute; top: -3px; bottom: -3px; width: 2px; background: var(--cam-fg); border-radius: 1px; }
.nbviz-cam .cam-readout { font-size: 12px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; color: var(--cam-fg2); font-variant-numeric: tabular-nums; min-height: 17px; }
.nbviz-cam .cam-readout b { color: var(--cam-fg); font-weight: 600; }
.nbviz-cam .cam-sliders { display: grid; grid-template-columns: auto 1fr 38px; align-items: center; gap: 2px 8px; font-size: 12px; color: var(--cam-fg2); }
.nbviz-cam .cam-sliders input[type=range] { width: 100%; accent-color: var(--cam-accent); margin: 0; }
.nbviz-cam .cam-sliders output { text-align: right; font-variant-numeric: tabular-nums; color: var(--cam-fg); }
.nbviz-cam .cam-panel { width: 250px; display: flex; flex-direction: column; gap: 8px; }
.nbviz-cam .cam-panel h4 { margin: 0; font-size: 11px; font-weight: 600; letter-spacing: .02em; text-transform: uppercase; color: var(--cam-fg2); display: flex; justify-content: space-between; }
.nbviz-cam .cam-panel input[type=search] { width: 100%; }
.nbviz-cam .cam-search { position: relative; }
.nbviz-cam .cam-search-hint { position: absolute; left: 9px; top: 50%; transform: translateY(-50%); color: var(--cam-fg2); opacity: .8; pointer-events: none; }
.nbviz-cam .cam-search-hint[hidden] { display: none; }
.nbviz-cam .cam-classes { list-style: none; margin: 0; padding: 0; max-height: 300px; overflow-y: auto; display: flex; flex-direction: column; gap: 2px; }
.nbviz-cam .cam-class { display: grid; grid-template-columns: 1fr auto; gap: 1px 8px; padding: 4px 6px; border-radius: 5px; cursor: pointer; border: 1px solid transparent; }
.nbviz-cam .cam-class:hover { background: var(--cam-bg2); }
.nbviz-cam .cam-class:focus-visible { outline: 2px solid var(--cam-accent); outline-offset: -1px; }
.nbviz-cam .cam-class.cam-selected { background: var(--cam-accent-bg); border-color: var(--cam-accent); }
.nbviz-cam .cam-class.cam-active { outline: 2px solid var(--cam-accent); outline-offset: -1px; background: var(--cam-bg2); }
.nbviz-cam .cam-class.cam-disabled { opacity: .45; cursor: not-allowed; }
.nbviz-cam .cam-class .cam-name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.nbviz-cam .cam-class .cam-prob { font-variant-numeric: tabular-nums; color: var(--cam-fg2); font-size: 12px; }
.nbviz-cam .cam-class .cam-bar { grid-column: 1 / 3; height: 3px; border-radius: 2px; background: var(--cam-border2); overflow: hidden; }
.nbviz-cam .cam-class .cam-bar > div { height: 100%; background: var(--cam-accent); }
.nbviz-cam .cam-more { font-size: 12px; color: var(--cam-fg2); padding: 2px 6px; }
.nbviz-cam .cam-scores { font-size: 12px; color: var(--cam-fg2); display: flex; flex-direction: column; gap: 4px; border-top: 1px solid var(--cam-border2); padding-top: 8px; }
.nbviz-cam .cam-scores b { color: var(--cam-fg); font-variant-numeric: tabular-nums; }
.nbviz-cam .cam-thumbs { display: flex; gap: 6px; overflow-x: auto; padding-bottom: 2px; }
.nbviz-cam .cam-thumbs[hidden] { display: none; }
.nbviz-cam .cam-thumb { padding: 0; height: auto; border: 2px solid transparent; border-radius: 6px; background: none; line-height: 0; }
.nbviz-cam .cam-thumb img { width: 56px; height: 56px; object-fit: cover; border-radius: 4px; display: block; }
.nbviz-cam .cam-thumb.cam-selected { border-color: var(--cam-accent); }
.nbviz-cam .cam-compare { display: grid; grid-template-columns: repeat(4, auto); gap: 8px; align-content: start; }
.nbviz-cam .cam-compare[hidden] { display: none; }
.nbviz-cam .cam-tile { width: 138px; display: flex; flex-direction: column; gap: 4px; padding: 6px; border-radius: 6px; border: 1px solid var(--cam-border2); cursor: pointer; background: var(--cam-bg); }
.nbviz-cam .cam-tile:hover { border-color: var(--cam-border); background: var(--cam-bg2); }
.nbviz-cam .cam-tile.cam-selected { border-color: var(--cam-accent); }
.nbviz-cam .cam-tile canvas { display: block; }
.nbviz-cam .cam-tile .cam-tile-label { font-weight: 600; font-size: 12px; line-height: 1.25; min-height: 30px; overflow-wrap: anywhere; }
.nbviz-cam .cam-tile button { height: 22px; font-size: 11.5px; padding: 0 6px; }
.nbviz-cam .cam-tile .cam-tile-status { font-size: 11.5px; color: var(--cam-fg2); min-height: 22px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 2px 4px; }
.nbviz-cam .cam-tile .cam-tile-status.cam-bad { color: var(--cam-error); }
.nbviz-cam .cam-badge { font-size: 10.5px; font-weight: 600; padding: 0 5px; border-radius: 8px; background: var(--cam-bg2); color: var(--cam-fg2); }
.nbviz-cam .cam-note { font-size: 12px; color: var(--cam-fg2); }
.nbviz-cam [hidden] { display: none !important; }
.nbviz-cam .cam-row { display: flex; align-items: center; gap: 8px; }
.nbviz-cam .cam-badge.cam-fails { background: #fff4e5; color: #8a4b00; border: 1px solid #f0b35a; text-transform: none; letter-spacing: 0; cursor: help; }
.nbviz-cam select[data-role=versus] { width: 120px; }
.nbviz-cam .cam-choice .cam-row { gap: 4px; }
.nbviz-cam .cam-choice-text { max-width: 260px; height: 28px; line-height: 26px; padding: 0 8px; border-radius: 5px; border: 1px solid var(--cam-accent); background: var(--cam-accent-bg); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.nbviz-cam .cam-choice button { width: 28px; padding: 0; }
.nbviz-cam .cam-class.cam-versus { border-color: #c77700; border-style: dashed; }
.nbviz-cam .cam-tag { font-size: 10.5px; font-weight: 700; margin-right: 4px; color: var(--cam-accent); }
.nbviz-cam .cam-class.cam-versus .cam-tag { color: #c77700; }
.nbviz-cam .cam-sanity { display: flex; flex-direction: column; gap: 8px; border-top: 1px solid var(--cam-border2); padding-top: 8px; max-width: 100%; }
.nbviz-cam .cam-sanity .cam-sanity-running { flex: 1; min-width: 240px; }
.nbviz-cam .cam-sanity .cam-sanity-label { font-size: 12px; white-space: nowrap; font-variant-numeric: tabular-nums; }
.nbviz-cam .cam-sanity .cam-bad { color: var(--cam-error); }
.nbviz-cam .cam-sanity-result { display: flex; flex-direction: column; gap: 6px; }
.nbviz-cam .cam-verdict { padding: 8px 10px; border-radius: 6px; border-left: 4px solid; font-size: 12.5px; max-width: 900px; }
.nbviz-cam .cam-verdict.cam-pass { background: #edf7ed; border-color: #2e7d32; color: #1e4620; }
.nbviz-cam .cam-verdict.cam-fail { background: #fdecea; border-color: #d32f2f; color: #5f2120; }
.nbviz-cam .cam-sanity-strip { display: flex; flex-wrap: wrap; gap: 4px; max-width: 900px; }
.nbviz-cam .cam-sanity-tile { flex: 0 0 auto; width: 62px; padding: 2px; border-radius: 4px; border: 1px solid transparent; font-size: 10px; line-height: 1.2; text-align: center; }
.nbviz-cam .cam-sanity-tile canvas { display: block; border-radius: 3px; background: #000; }
.nbviz-cam .cam-sanity-tile .cam-sanity-block { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; color: var(--cam-fg2); }
.nbviz-cam .cam-sanity-tile .cam-sanity-value { font-variant-numeric: tabular-nums; font-weight: 600; }
.nbviz-cam .cam-sanity-tile.cam-middle { border-color: var(--cam-border); border-style: dashed; }
.nbviz-cam .cam-sanity-tile.cam-first-below { border-color: #2e7d32; background: #edf7ed; }
.nbviz-cam .cam-sanity-chart { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
.nbviz-cam .cam-sanity-chart svg { font-size: 10px; fill: var(--cam-fg2); }
.nbviz-cam .cam-sanity-chart svg .cam-grid { stroke: var(--cam-border2); }
.nbviz-cam .cam-sanity-chart svg .cam-threshold { stroke: #d32f2f; stroke-dasharray: 5 3; stroke-width: 1.2; }
.nbviz-cam .cam-sanity-chart svg .cam-middle-line { stroke: var(--cam-fg2); stroke-dasharray: 2 3; }
.nbviz-cam .cam-sanity-legend { display: flex; flex-direction: column; gap: 3px; font-size: 11.5px; color: var(--cam-fg2); max-width: 300px; }
.nbviz-cam .cam-sanity-legend b { color: var(--cam-fg); font-weight: 600; }
.nbviz-cam .cam-sanity-legend i { display: inline-block; width: 14px; height: 3px; margin-right: 6px; vertical-align: middle; }
.nbviz-cam .cam-sanity-legend i.cam-dash { background: repeating-linear-gradient(90deg, #d32f2f 0 5px, transparent 5px 8px); }
`;
