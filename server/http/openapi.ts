// The API contract as code. Each domain declares its routes next to the zod
// schemas its handlers validate with (an `ApiRoute[]` exported from its
// routes.ts); server/http/contract.ts collects them and this file turns them
// into an OpenAPI 3.1 document. JSON Schema comes from zod 4's own
// z.toJSONSchema: it emits draft 2020-12, the dialect of OpenAPI 3.1, and
// needs no second schema library; request schemas are rendered as input
// (what the client sends, before transforms), response schemas as output.
import { z } from "zod";

export type Method = "get" | "post" | "put" | "patch" | "delete";

export interface ApiResponse {
  description: string;
  schema?: z.ZodType;
  /** application/json unless said otherwise (text/html pages, Prometheus text, redirects). */
  contentType?: string;
}

export interface ApiRoute {
  method: Method;
  /** The Express path, e.g. /api/posts/:id. */
  path: string;
  summary: string;
  tag: string;
  /** Who may call it: a logged-in session, the operator token, or anybody. */
  auth?: "session" | "operator" | "none";
  body?: z.ZodType;
  query?: z.ZodType;
  /** Path parameters; a `:name` without a schema is documented as a string. */
  params?: z.ZodType;
  /** Success answers by status. */
  responses: Record<number, ApiResponse>;
  /** Error statuses answered with the error envelope (400 for a body, 401 for a session, 429… are added where they always apply). */
  errors?: number[];
  description?: string;
}

/** The one error envelope (errors.ts); extra fields such as requiresLogin or quotaExceeded may sit beside it. */
export const errorEnvelope = z.looseObject({
  error: z.string(),
  message: z.string(),
  code: z.string(),
  requestId: z.string(),
  details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

export const successOnly = z.object({ success: z.literal(true) });
export const isoDate = z.iso.datetime();
export const emptyObject = z.strictObject({});

const json = (schema: z.ZodType, io: "input" | "output") => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<string, unknown>;
  return rest;
};

const STATUS_TEXT: Record<number, string> = {
  400: "Invalid input (names the field)",
  401: "Not logged in, or no operator token",
  403: "Refused (wrong origin, wrong operator token)",
  404: "Not found",
  409: "Conflict with the current state",
  413: "Body larger than 100 kB",
  415: "Body is not application/json",
  422: "Refused by the platform",
  429: "Rate limited (Retry-After)",
  500: "Unexpected error (carries requestId)",
  503: "A dependency is unavailable",
};

const openApiPath = (path: string) => path.replace(/:(\w+)/g, "{$1}");

function parameters(route: ApiRoute): unknown[] {
  const out: unknown[] = [];
  const pathSchema = route.params ? (json(route.params, "input") as { properties?: Record<string, unknown> }) : undefined;
  for (const [, name] of route.path.matchAll(/:(\w+)/g)) {
    out.push({ name, in: "path", required: true, schema: pathSchema?.properties?.[name!] ?? { type: "string" } });
  }
  if (route.query) {
    const q = json(route.query, "input") as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, schema] of Object.entries(q.properties ?? {})) {
      out.push({ name, in: "query", required: q.required?.includes(name) ?? false, schema });
    }
  }
  return out;
}

function operation(route: ApiRoute) {
  const errors = new Set(route.errors ?? []);
  if (route.body) [400, 413, 415].forEach((s) => errors.add(s));
  if (route.method !== "get") errors.add(403);
  if (route.auth === "session") errors.add(401);
  if (route.auth === "operator") [401, 403, 404, 429].forEach((s) => errors.add(s));
  errors.add(500);

  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(route.responses)) {
    const type = r.contentType ?? "application/json";
    responses[status] = { description: r.description, ...(r.schema ? { content: { [type]: { schema: json(r.schema, "output") } } } : {}) };
  }
  for (const status of [...errors].sort()) {
    responses[status] ??= { description: STATUS_TEXT[status] ?? "Error", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
  }
  const params = parameters(route);
  return {
    operationId: `${route.method}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ""))}`,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    ...(route.auth === "session" ? { security: [{ session: [] }] } : route.auth === "operator" ? { security: [{ operator: [] }] } : {}),
    ...(params.length ? { parameters: params } : {}),
    ...(route.body ? { requestBody: { required: true, content: { "application/json": { schema: json(route.body, "input") } } } } : {}),
    responses,
  };
}

export function buildOpenApi(routes: ApiRoute[], info: { version: string; serverUrl?: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const p = (paths[openApiPath(route.path)] ??= {});
    if (p[route.method]) throw new Error(`OpenAPI: ${route.method.toUpperCase()} ${route.path} is declared twice`);
    p[route.method] = operation(route);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "AgencyIQ API",
      version: info.version,
      description:
        "The REST API of the AgencyIQ frontend and the browser OAuth connect flow. Writes from a browser must carry our Origin; bodies are JSON. Errors share one envelope (components.schemas.Error). Generated from the zod schemas the routes validate with.",
    },
    ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
    paths,
    components: {
      schemas: { Error: json(errorEnvelope, "output") },
      securitySchemes: {
        session: { type: "apiKey", in: "cookie", name: "aiq.sid", description: "The session cookie set by signup, login or establish-session" },
        operator: { type: "http", scheme: "bearer", description: "OPS_TOKEN" },
      },
    },
  };
}
