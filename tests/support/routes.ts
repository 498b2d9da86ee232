// Every route actually mounted in an Express app, found by walking the router
// stack (Express 5's `router`: each layer keeps the path it was mounted at as
// `rawPath`). Routers mounted under a prefix are reported by prefix so a test
// can decide about them (the sandbox at /sandbox is a fake platform, not our API).
import type { Express } from "express";

export interface MountedRoute {
  method: string;
  path: string;
}

interface Layer {
  rawPath?: unknown;
  route?: { path: unknown; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
}

export function mountedRoutes(app: Express): { routes: MountedRoute[]; prefixes: string[] } {
  const routes: MountedRoute[] = [];
  const prefixes: string[] = [];
  const walk = (stack: Layer[], base: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const p of paths) {
          for (const [method, on] of Object.entries(layer.route.methods)) {
            if (on && method !== "_all") routes.push({ method, path: base + String(p) });
          }
        }
      } else if (layer.handle.stack) {
        const at = typeof layer.rawPath === "string" && layer.rawPath !== "/" ? layer.rawPath : "";
        if (at) prefixes.push(base + at);
        else walk(layer.handle.stack, base);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, "");
  return { routes, prefixes };
}
