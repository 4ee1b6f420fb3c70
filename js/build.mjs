// Bundles every top-level js/src/<name>.js into one self-contained ES module, twice:
//   nbviz/static/<name>.js          production: what the wheel ships, without test hooks;
//   js/build/test-bundles/<name>.js  test build: the same code plus the inspection hooks that the
//                                   browser tests and benchmarks read (NBVIZ_BUNDLE_DIR points
//                                   nbviz at this folder, see nbviz/widgets/bundles.py).
// Source code guards each hook with `if (globalThis.NBVIZ_TEST_HOOKS)`; `define` turns that into
// a constant, so minification drops the hook code from the production bundles.
// Subfolders of src/ hold modules shared between entries.
import { build, context } from "esbuild";
import { readdirSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const sourceDir = join(here, "src");
const watch = process.argv.includes("--watch");

const entryPoints = readdirSync(sourceDir)
  .filter((name) => name.endsWith(".js"))
  .map((name) => join(sourceDir, name));

const targets = [
  { outdir: join(here, "..", "nbviz", "static"), testHooks: false },
  { outdir: join(here, "build", "test-bundles"), testHooks: true },
];

const optionsFor = ({ outdir, testHooks }) => ({
  entryPoints,
  outdir,
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: true,
  sourcemap: false,
  legalComments: "none",
  logLevel: "info",
  define: { "globalThis.NBVIZ_TEST_HOOKS": testHooks ? "true" : "false" },
});

for (const target of targets) mkdirSync(target.outdir, { recursive: true });
if (watch) {
  for (const target of targets) await (await context(optionsFor(target))).watch();
} else {
  await Promise.all(targets.map((target) => build(optionsFor(target))));
}
