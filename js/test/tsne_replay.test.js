// Replay arithmetic of the t-SNE scatter: timeline position -> iteration, pace, blending,
// keyframe decoding and the animation's timing (driven by a fake clock).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  KeyframeTrack, REPLAY_MAX_MS, REPLAY_MIN_MS, ReplayPlayer, blendLayouts, clampPosition, keyframeCount,
  msPerKeyframe, replayIteration,
} from "../src/tsne/replay.js";

const close = (a, b, eps) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b} (±${eps})`);

test("timeline position -> iteration: linear between keyframes, rounded, clamped", () => {
  const its = [0, 50, 250, 1000];
  assert.equal(replayIteration(its, 0), 0);
  assert.equal(replayIteration(its, 1), 50);
  assert.equal(replayIteration(its, 1.5), 150); // 50 + (250 - 50) * 0.5
  assert.equal(replayIteration(its, 2.25), 438); // 250 + 750 * 0.25 = 437.5 -> 438
  assert.equal(replayIteration(its, 3), 1000);
  assert.equal(replayIteration(its, 7), 1000);
  assert.equal(replayIteration(its, -2), 0);
  assert.equal(replayIteration([], 1), 0);
  assert.equal(clampPosition(5, 3), 2);
  assert.equal(clampPosition(-1, 3), 0);
  assert.equal(clampPosition(1, 0), 0);
});

test("pace: the whole run takes clamp(60 ms x count, 2 s, 8 s)", () => {
  assert.equal(msPerKeyframe(2), REPLAY_MIN_MS / 1); // 120 ms -> 2 s for one step
  assert.equal(msPerKeyframe(11), 2000 / 10);
  assert.equal(msPerKeyframe(51), 3060 / 50); // 51 * 60 = 3060 ms inside the bounds
  assert.equal(msPerKeyframe(1001), REPLAY_MAX_MS / 1000);
  assert.throws(() => msPerKeyframe(1), /at least 2 keyframes, got 1/);
});

test("blend: a + (b - a) t per coordinate", () => {
  const out = blendLayouts(new Float32Array([0, 10, -4]), new Float32Array([2, 20, 4]), 0.25, new Float32Array(3));
  assert.deepEqual([...out], [0.5, 12.5, -2]);
});

test("keyframe track: count from complete keyframes, decoded layouts, blends between them", () => {
  // 2 points, 3 keyframes (codes 0 and 65535 are the bounds' ends); the third is incomplete.
  const codes = new Uint16Array([0, 0, 65535, 65535, 65535, 0, 0, 65535, 1, 2]);
  const bounds = [[-1, -2, 1, 2], [0, 0, 4, 8]];
  assert.equal(keyframeCount(codes, [0, 10, 20], 2), 2);
  assert.equal(keyframeCount(codes, [0], 2), 1);
  assert.equal(keyframeCount(null, [0], 2), 0);
  const track = new KeyframeTrack(codes, [0, 10, 20], bounds, 2);
  assert.equal(track.count, 2);
  assert.equal(track.lastIteration(), 10);
  assert.deepEqual([...track.layoutAt(0)], [-1, -2, 1, 2]);
  assert.deepEqual([...track.layoutAt(1)], [4, 0, 0, 8]);
  // Halfway: the mean of the two decoded layouts.
  assert.deepEqual([...track.layoutAt(0.5)], [1.5, -1, 0.5, 5]);
  assert.equal(track.iterationAt(0.5), 5);
  // The blend is a fresh array: the one shown before is not overwritten by the next.
  const first = track.layoutAt(0.25);
  track.layoutAt(0.75);
  assert.deepEqual([...first], [-1 + 5 * 0.25, -2 + 2 * 0.25, 1 - 1 * 0.25, 2 + 6 * 0.25]);
});

/** A clock whose frames run when the test advances time. */
function fakeClock() {
  let now = 1000;
  let queued = null;
  let handles = 0;
  return {
    now: () => now,
    request: (fn) => { queued = fn; handles += 1; return handles; },
    cancel: () => { queued = null; },
    advance(ms) { now += ms; const fn = queued; queued = null; if (fn) fn(); },
    get waiting() { return queued !== null; },
  };
}

test("player: position = elapsed / msPerKeyframe from the start position, then onEnd", () => {
  const clock = fakeClock();
  const positions = [];
  let ended = 0;
  const player = new ReplayPlayer({ onPosition: (p) => positions.push(p), onEnd: () => { ended += 1; }, clock });
  player.play(0, 11); // 200 ms per keyframe
  assert.ok(player.playing);
  clock.advance(100);
  clock.advance(400);
  assert.deepEqual(positions, [0.5, 2.5]);
  clock.advance(1600); // 2100 ms in: past the end (2000 ms), shown at the last keyframe
  assert.deepEqual(positions, [0.5, 2.5, 10]);
  assert.equal(ended, 1);
  assert.ok(!player.playing);
  assert.ok(!clock.waiting);
});

test("player: starting mid-way and stopping", () => {
  const clock = fakeClock();
  const positions = [];
  const player = new ReplayPlayer({ onPosition: (p) => positions.push(p), onEnd: () => assert.fail("stopped"), clock });
  player.play(4, 11);
  clock.advance(100);
  close(positions[0], 4.5, 1e-12);
  player.stop();
  assert.ok(!player.playing);
  clock.advance(5000);
  assert.equal(positions.length, 1);
  player.play(0, 1); // fewer than 2 keyframes: nothing to animate
  assert.ok(!player.playing);
});
