import type { RequestHandler } from "express";
import type { User } from "../../shared/schema.ts";
import type { Deps } from "../deps.ts";
import { HttpError } from "../http/errors.ts";
import { loadedAccount } from "../http/session-store.ts";
import { findUserById } from "./queries.ts";

// Named outside the Express namespace, where `User` means passport's Express.User.
type AccountRow = User;

declare global {
  namespace Express {
    interface Request {
      /** The logged-in user, loaded by requireUser. */
      account?: AccountRow;
    }
  }
}

export const notAuthenticated = () =>
  new HttpError(401, "not_authenticated", "Not authenticated", { requiresLogin: true });

/** 401 `{ message: "Not authenticated", requiresLogin: true }` unless the session has a user. */
export function requireUser(deps: Deps): RequestHandler {
  return async (req, _res, next) => {
    const userId = req.session?.userId;
    // Usually read with the session already (session-store.ts); read here when the session changed since.
    const user = userId ? (loadedAccount(req, userId) ?? (await findUserById(deps.db, userId))) : undefined;
    if (!user) throw notAuthenticated();
    req.account = user;
    next();
  };
}

/** The user loaded by requireUser; a route without it is a programming error. */
export function accountOf(req: Express.Request): User {
  if (!req.account) throw notAuthenticated();
  return req.account;
}
