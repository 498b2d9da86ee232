// `npm start`: builds the server bundle when the sources changed (build.mjs),
// then runs it in this process, so signals reach the server directly.
import { pathToFileURL } from "node:url";
import { BUNDLE, buildBundle, bundleIsStale } from "./build.mjs";

if (bundleIsStale()) await buildBundle();
const { main } = await import(pathToFileURL(BUNDLE).href);
await main();
