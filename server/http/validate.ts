// Every body, query and parameter goes through a zod schema; a failure is a
// 400 naming the field (see errors.ts), never a 500.
import type { Request } from "express";
import type { z } from "zod";
import { validationError } from "./errors.ts";

export function parseBody<S extends z.ZodType>(schema: S, req: Request): z.infer<S> {
  const result = schema.safeParse(req.body ?? {});
  if (!result.success) throw validationError(result.error, "body");
  return result.data;
}

export function parseQuery<S extends z.ZodType>(schema: S, req: Request): z.infer<S> {
  const result = schema.safeParse(req.query ?? {});
  if (!result.success) throw validationError(result.error, "query");
  return result.data;
}

export function parseParams<S extends z.ZodType>(schema: S, req: Request): z.infer<S> {
  const result = schema.safeParse(req.params ?? {});
  if (!result.success) throw validationError(result.error, "path");
  return result.data;
}
