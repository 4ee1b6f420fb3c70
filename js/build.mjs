// Bundles every top-level js/src/<name>.js into one self-contained ES module at
// nbviz/static/<name>.js. Subfolders of src/ hold modules shared between entries.
import { build, context } from "esbuild";
import { readdirSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const sourceDir = join(here, "src");
const outDir = join(here, "..", "nbviz", "static");
const watch = process.argv.includes("--watch");

const entryPoints = readdirSync(sourceDir)
  .filter((name) => name.endsWith(".js"))
  .map((name) => join(sourceDir, name));

mkdirSync(outDir, { recursive: true });
const options = {
  entryPoints,
  outdir: outDir,
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: !watch,
  sourcemap: false,
  legalComments: "none",
  logLevel: "info",
};

if (watch) {
  const ctx = await context(options);
  await ctx.watch();
} else {
  await build(options);
}
