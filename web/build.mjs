// Front-end build for gridgov.
//
// MapLibre GL JS and Apache ECharts come from the npm registry (web/package.json pins the
// versions) and are never committed: this script copies the browser bundles from
// web/node_modules into gridgov/web/static/vendor/, which is build output and git-ignored
// (DESIGN §4.4).
//
// Usage, from the repository root:
//   npm --prefix web ci && node web/build.mjs
// (or, inside web/: npm ci && npm run build)

import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const webDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = dirname(webDir);
const vendorDir = join(repoRoot, "gridgov", "web", "static", "vendor");

// [package, file inside the package, name under static/vendor/]
const FILES = [
  ["maplibre-gl", "dist/maplibre-gl.js", "maplibre-gl.js"],
  ["maplibre-gl", "dist/maplibre-gl.js.map", "maplibre-gl.js.map"],
  ["maplibre-gl", "dist/maplibre-gl.css", "maplibre-gl.css"],
  ["maplibre-gl", "LICENSE.txt", "maplibre-gl.LICENSE.txt"],
  // Charts of the leader screen (pages flagged `echarts` in gridgov/web/pages.py).
  ["echarts", "dist/echarts.min.js", "echarts.min.js"],
  ["echarts", "LICENSE", "echarts.LICENSE.txt"],
];

function packageDir(name) {
  const dir = join(webDir, "node_modules", name);
  if (!existsSync(join(dir, "package.json"))) {
    console.error(`error: ${name} is not installed in web/node_modules; run: npm --prefix web ci`);
    process.exit(1);
  }
  return dir;
}

mkdirSync(vendorDir, { recursive: true });
const manifest = {};
for (const [pkg, src, dest] of FILES) {
  const dir = packageDir(pkg);
  const from = join(dir, src);
  if (!existsSync(from)) {
    console.error(`error: ${pkg} has no ${src}; is the pinned version right?`);
    process.exit(1);
  }
  copyFileSync(from, join(vendorDir, dest));
  manifest[pkg] = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).version;
  console.log(`copied ${pkg}/${src} -> gridgov/web/static/vendor/${dest}`);
}
// The server reads this to version the asset URLs and to report what was built.
writeFileSync(join(vendorDir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
console.log(`vendor build done: ${JSON.stringify(manifest)}`);
