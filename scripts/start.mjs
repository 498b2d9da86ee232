// `npm start`: builds the server bundle when the sources changed (build.mjs),
// then runs it in this process, so signals reach the server directly. When the
// bundle cannot be written (a read-only checkout), the TypeScript runs through
// tsx as before: slower to start, same server.
import { pathToFileURL } from "node:url";
import { BUNDLE, buildBundle, bundleIsStale, ROOT } from "./build.mjs";

let entry = pathToFileURL(BUNDLE).href;
try {
  if (bundleIsStale()) await buildBundle();
} catch (err) {
  console.error(`Could not build ${BUNDLE} (${err.message}); running server/index.ts through tsx instead.`);
  const { register } = await import("tsx/esm/api");
  register();
  entry = pathToFileURL(`${ROOT}server/index.ts`).href;
}
const { main } = await import(entry);
await main();
