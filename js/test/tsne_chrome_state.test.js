// What the t-SNE chrome shows for given traits: transport, progress, badge, learning rate, KL,
// timeline. Plain values, computed without a DOM.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  OFFLINE_REASON, badgeState, klTextAt, learningRateDisplay, legendColumns, mergedKlHistory, progressTexts, timelineState, transportState,
} from "../src/tsne/chrome_state.js";

test("transport: pause while running; stop only while running or paused; step until finished", () => {
  assert.deepEqual(transportState("running", false),
    { icon: "pause", playTitle: "Pause", offline: false, stopDisabled: false, stepDisabled: false });
  assert.equal(transportState("paused", false).stopDisabled, false);
  assert.equal(transportState("idle", false).stopDisabled, true);
  assert.equal(transportState("finished", false).stepDisabled, true);
  const offline = transportState("finished", true);
  assert.equal(offline.playTitle, OFFLINE_REASON);
  assert.ok(offline.stopDisabled && offline.stepDisabled && offline.offline);
});

test("progress: iteration, total, bar width and the exaggeration in force", () => {
  assert.deepEqual(progressTexts(250, 1000, 12), ["Iteration 250 ", "/ 1,000", "25.0%", "early exaggeration ×12"]);
  assert.deepEqual(progressTexts(1500, 1000, 1), ["Iteration 1,500 ", "/ 1,000", "100.0%", "exaggeration off (×1)"]);
  assert.equal(progressTexts(3, 0, 4.5)[2], "0%");
  assert.equal(progressTexts(3, 9, 4.5)[3], "early exaggeration ×4.5");
});

test("progress: the kernel's activity takes the status line while it reports one", () => {
  const texts = progressTexts(760, 1000, 1, "perplexity 50 · continuing 250 iterations");
  assert.deepEqual(texts, ["Iteration 760 ", "/ 1,000", "76.0%", "perplexity 50 · continuing 250 iterations"]);
  assert.equal(progressTexts(300, 750, 12, "recomputing affinities…")[3], "recomputing affinities…");
  assert.equal(progressTexts(300, 750, 12, "")[3], "early exaggeration ×12");
});

test("badge: PCA view over replay over saved report over status", () => {
  const base = { status: "running", offline: false, view: "tsne", replayIteration: null };
  assert.deepEqual(badgeState(base), { text: "● Running", color: "#1a7f37" });
  assert.equal(badgeState({ ...base, status: "error" }).color, "#b42318");
  assert.equal(badgeState({ ...base, status: "weird" }).text, "weird");
  assert.equal(badgeState({ ...base, offline: true }).text, "Saved report");
  assert.equal(badgeState({ ...base, offline: true, replayIteration: 1234 }).text, "Replay · iteration 1,234");
  assert.equal(badgeState({ ...base, replayIteration: 0, view: "pca" }).text, "PCA start layout");
});

test("learning rate: a set rate as is, 0 means auto = N / exaggeration", () => {
  assert.deepEqual(learningRateDisplay(200, 5000, 12), { value: 200, text: "200", auto: false });
  assert.deepEqual(learningRateDisplay(12.5, 5000, 12), { value: 12.5, text: "12.5", auto: false });
  assert.deepEqual(learningRateDisplay(0, 6000, 12), { value: 500, text: "auto · 500", auto: true });
});

test("KL: live points after the trait's history; the value at or before an iteration", () => {
  const history = [[0, 5], [10, 4]];
  const merged = mergedKlHistory(history, [[5, 9], [12, 3.5], [14, 3.25]]);
  assert.deepEqual(merged, [[0, 5], [10, 4], [12, 3.5], [14, 3.25]]);
  assert.equal(history.length, 2, "the trait's list is not modified");
  assert.equal(klTextAt(merged), "3.250");
  assert.equal(klTextAt(merged, 11), "4.000");
  assert.equal(klTextAt(merged, -1), "–");
  assert.equal(klTextAt([]), "–");
});

test("timeline: caption live, offline and while replaying", () => {
  const base = { count: 12, replaying: false, offline: false, replayIteration: 0, lastIteration: 1000 };
  assert.deepEqual(timelineState(base), { canReplay: true, liveLabel: "Live", liveDisabled: true, text: "12 keyframes · live" });
  assert.equal(timelineState({ ...base, offline: true }).text, "12 keyframes · final layout");
  assert.equal(timelineState({ ...base, offline: true }).liveLabel, "End");
  assert.equal(timelineState({ ...base, count: 1 }).text, "keyframes appear as the run goes");
  assert.equal(timelineState({ ...base, count: 1 }).canReplay, false);
  const replaying = timelineState({ ...base, replaying: true, replayIteration: 1500, lastIteration: 2000 });
  assert.equal(replaying.text, "iteration 1,500 of 2,000");
  assert.equal(replaying.liveDisabled, false);
});

test("legend: two columns only for many short names", () => {
  assert.equal(legendColumns(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]), 2);
  assert.equal(legendColumns(["0", "1", "2", "3", "4", "5"]), 1);  // few enough for one column
  assert.equal(legendColumns(["cat", "dog", "car", "bus", "van", "cow", "pig"]), 2);
  assert.equal(legendColumns(["airplane", "bird", "cat", "deer", "dog", "frog", "horse"]), 1);
  assert.equal(legendColumns([]), 1);
});
