// The widget's stylesheet, scoped under .nbviz-tsne so it never leaks into the page.
export const CSS = `
.nbviz-tsne { --ink: #1f2430; --muted: #667085; --line: #e3e6ec; --panel: #f7f8fa; --accent: #2f6fde;
  font: 13px/1.35 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: #fff; border: 1px solid var(--line); border-radius: 10px;
  display: grid; grid-template-columns: minmax(0, 1fr) 212px; grid-template-rows: auto minmax(0, 1fr) auto;
  min-height: 560px; max-height: 960px; overflow: hidden; box-sizing: border-box; user-select: none; }
/* No fixed height: the widget grows with its side panel (the plot takes the extra room), so every
   control shows without scrolling; past max-height the panel scrolls. */
.nbviz-tsne * { box-sizing: border-box; }
.nbviz-tsne .bar { grid-column: 1 / 3; display: flex; align-items: center; gap: 10px; padding: 7px 10px;
  border-bottom: 1px solid var(--line); background: var(--panel); min-height: 48px; overflow: hidden; }
.nbviz-tsne .bar > strong { max-width: 160px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-size: 14px; }
.nbviz-tsne .tools { position: absolute; left: 10px; top: 8px; display: flex; gap: 6px; z-index: 2; }
.nbviz-tsne .tools .seg, .nbviz-tsne .tools > button { background: rgba(255,255,255,.92); }
.nbviz-tsne .tools button { height: 28px; }
.nbviz-tsne .group { display: flex; align-items: center; gap: 3px; }
.nbviz-tsne button { font: inherit; color: var(--ink); background: #fff; border: 1px solid #cfd4dc; border-radius: 7px;
  height: 30px; min-width: 32px; padding: 0 9px; cursor: pointer; display: inline-flex; align-items: center;
  justify-content: center; gap: 5px; }
.nbviz-tsne button:hover:not(:disabled) { border-color: var(--accent); color: var(--accent); }
.nbviz-tsne button:disabled { opacity: .4; cursor: default; }
.nbviz-tsne button.primary { background: var(--accent); color: #fff; border-color: var(--accent); min-width: 40px; }
.nbviz-tsne button.primary:hover:not(:disabled) { background: #2559b8; color: #fff; }
.nbviz-tsne .seg { display: inline-flex; border: 1px solid #cfd4dc; border-radius: 7px; overflow: hidden; }
.nbviz-tsne .seg button { border: 0; border-radius: 0; height: 28px; }
.nbviz-tsne .seg button + button { border-left: 1px solid #cfd4dc; }
.nbviz-tsne .seg button.on { background: #e8f0fe; color: var(--accent); font-weight: 600; }
.nbviz-tsne svg.icon { width: 14px; height: 14px; fill: currentColor; }
.nbviz-tsne .progress { display: flex; flex-direction: column; gap: 3px; min-width: 150px; }
.nbviz-tsne .iter { font-variant-numeric: tabular-nums; font-weight: 600; white-space: nowrap; }
.nbviz-tsne .iter small { color: var(--muted); font-weight: 400; }
.nbviz-tsne .track { height: 4px; background: var(--line); border-radius: 2px; overflow: hidden; }
.nbviz-tsne .track > div { height: 100%; width: 0; background: var(--accent); }
.nbviz-tsne .phase { font-size: 11px; color: var(--muted); white-space: nowrap; }
.nbviz-tsne .kl { display: flex; align-items: center; gap: 6px; color: var(--muted); font-size: 11px; }
.nbviz-tsne .kl b { color: var(--ink); font-variant-numeric: tabular-nums; font-size: 13px; }
.nbviz-tsne .kl svg { width: 96px; height: 30px; background: #fff; border: 1px solid var(--line); border-radius: 5px; }
.nbviz-tsne .spacer { flex: 1; }
.nbviz-tsne .plot { position: relative; min-width: 0; min-height: 0; background: #fff; overflow: hidden; }
.nbviz-tsne .plot canvas { position: absolute; inset: 0; width: 100%; height: 100%; }
.nbviz-tsne .plot canvas.overlay { pointer-events: none; }
.nbviz-tsne .plot.lasso { cursor: crosshair; }
.nbviz-tsne .plot.pan { cursor: grab; }
.nbviz-tsne .plot.dragging { cursor: grabbing; }
.nbviz-tsne .hint { position: absolute; left: 10px; bottom: 8px; color: var(--muted); font-size: 11px;
  background: rgba(255,255,255,.85); padding: 2px 6px; border-radius: 4px; pointer-events: none; }
.nbviz-tsne .badge { position: absolute; right: 10px; top: 8px; font-size: 12px; font-weight: 600; padding: 3px 8px;
  border-radius: 12px; background: rgba(255,255,255,.9); border: 1px solid var(--line); pointer-events: none; }
.nbviz-tsne .banner { position: absolute; left: 10px; right: 10px; top: 8px; padding: 8px 32px 8px 12px; border-radius: 8px;
  font-size: 13px; display: none; z-index: 3; }
.nbviz-tsne .banner.error { background: #fdecec; border: 1px solid #f3b4b4; color: #8a1f1f; }
.nbviz-tsne .banner.notice { background: #fff6e0; border: 1px solid #f1d48a; color: #6b4e00; top: auto; bottom: 30px; }
.nbviz-tsne .banner .close { position: absolute; right: 6px; top: 4px; border: 0; background: transparent; height: 24px;
  min-width: 24px; padding: 0; color: inherit; }
.nbviz-tsne .tooltip { position: absolute; z-index: 4; pointer-events: none; background: rgba(255,255,255,.97);
  border: 1px solid #cfd4dc; border-radius: 8px; box-shadow: 0 4px 14px rgba(16,24,40,.14); padding: 8px;
  display: none; max-width: 260px; gap: 8px; align-items: flex-start; }
.nbviz-tsne .tooltip canvas { width: 64px; height: 64px; image-rendering: pixelated; border-radius: 4px;
  border: 1px solid var(--line); flex: none; position: static; }
.nbviz-tsne .tooltip .text { white-space: pre-wrap; word-break: break-word; font-size: 13px; }
.nbviz-tsne .tooltip .meta { color: var(--muted); font-size: 11px; margin-top: 3px; display: flex; align-items: center; gap: 5px; }
.nbviz-tsne .swatch { width: 10px; height: 10px; border-radius: 50%; flex: none; display: inline-block; }
.nbviz-tsne .side { border-left: 1px solid var(--line); background: var(--panel); overflow-y: auto; padding: 10px 12px;
  display: flex; flex-direction: column; gap: 9px; min-height: 0; }
.nbviz-tsne .side h4 { margin: 0 0 6px; font-size: 11px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); }
.nbviz-tsne .legend { display: flex; flex-direction: column; gap: 1px; max-height: 250px; overflow-y: auto; }
.nbviz-tsne .legend .item { display: flex; align-items: center; gap: 7px; padding: 2px 5px; border-radius: 5px; cursor: pointer; }
.nbviz-tsne .legend.two-columns { display: grid; grid-template-columns: 1fr 1fr; column-gap: 4px; }
.nbviz-tsne .legend.two-columns .item { gap: 5px; padding: 2px 3px; }
.nbviz-tsne .legend .item:hover { background: #eceff4; }
.nbviz-tsne .legend .item.on { background: #e8f0fe; font-weight: 600; }
.nbviz-tsne .legend .item .count { margin-left: auto; color: var(--muted); font-size: 11px; font-variant-numeric: tabular-nums; }
.nbviz-tsne .slider { display: flex; flex-direction: column; gap: 1px; margin-bottom: 3px; }
.nbviz-tsne .slider label { display: flex; justify-content: space-between; font-size: 12px; }
.nbviz-tsne .slider label span:last-child { font-variant-numeric: tabular-nums; color: var(--muted); }
.nbviz-tsne input[type=range] { width: 100%; accent-color: var(--accent); margin: 2px 0; }
.nbviz-tsne .selection { font-size: 12px; color: var(--muted); display: flex; align-items: center; gap: 6px; flex-wrap: wrap; }
.nbviz-tsne .selection button { height: 24px; font-size: 12px; }
.nbviz-tsne .timeline { grid-column: 1 / 3; display: flex; align-items: center; gap: 10px; padding: 6px 10px;
  border-top: 1px solid var(--line); background: var(--panel); }
.nbviz-tsne .timeline input { flex: 1; }
.nbviz-tsne .timeline .at { font-variant-numeric: tabular-nums; font-size: 12px; color: var(--muted); min-width: 150px; text-align: right; }

.nbviz-tsne .search input { width: 100%; font: inherit; padding: 4px 7px; border: 1px solid #cfd4dc; border-radius: 6px; }
.nbviz-tsne .search .status { font-size: 11px; color: var(--muted); margin-top: 3px; min-height: 14px; }
.nbviz-tsne .search .status.error { color: #b42318; }
.nbviz-tsne .focus { position: relative; }
.nbviz-tsne .focus .close { position: absolute; right: 0; top: -4px; height: 22px; min-width: 22px; padding: 0; border: 0; background: transparent; }
.nbviz-tsne .focus-title { font-weight: 600; word-break: break-word; margin-bottom: 4px; }
.nbviz-tsne .focus-controls { display: flex; align-items: center; gap: 6px; font-size: 12px; margin-bottom: 4px; }
.nbviz-tsne .focus-controls input { width: 46px; font: inherit; padding: 1px 3px; }
.nbviz-tsne .focus-controls .seg button { height: 22px; font-size: 11px; padding: 0 5px; }
.nbviz-tsne .kept { font-size: 12px; color: #b54708; font-weight: 600; margin-bottom: 3px; }
.nbviz-tsne ol.neighbors { margin: 0; padding-left: 20px; font-size: 12px; max-height: 190px; overflow-y: auto; }
.nbviz-tsne ol.neighbors li { cursor: pointer; padding: 1px 0; }
.nbviz-tsne ol.neighbors li:hover { color: var(--accent); }
.nbviz-tsne ol.neighbors li.kept-in-layout::marker { color: #1a7f37; font-weight: 700; }
.nbviz-tsne ol.neighbors li.kept-in-layout .name { color: #1a7f37; }
.nbviz-tsne ol.neighbors li.note { list-style: none; margin-left: -20px; color: var(--muted); cursor: default; }
.nbviz-tsne ol.neighbors .distance { float: right; color: var(--muted); font-variant-numeric: tabular-nums; }
.nbviz-tsne .kept-readout { font-size: 12px; color: var(--muted); }
.nbviz-tsne .colorbar .bar-gradient { height: 10px; border-radius: 3px; border: 1px solid var(--line); }
.nbviz-tsne .colorbar .ticks { display: flex; justify-content: space-between; font-size: 11px; color: var(--muted); font-variant-numeric: tabular-nums; }
.nbviz-tsne .legend .item.hidden { opacity: .45; }
.nbviz-tsne .legend .item button.eye { height: 18px; min-width: 18px; padding: 0; border: 0; background: transparent; }
`;
