// Packages no request needs while the server starts, loaded from node_modules
// when first used: stripe (payments), openai (the model writer) and
// date-holidays (the events calendar, with moment-timezone's zone data) are
// 3.2 MB of the 7.5 MB bundle and about a fifth of its top-level evaluation
// (issue 18: start-up). A static import would put them in the bundle, parsed
// and run on every start; a require through createRequire is invisible to the
// bundler, so it leaves them out (scripts/build.mjs lists them as external
// too), and Node's module cache makes every later call free. The types are
// the packages' own.
import { createRequire } from "node:module";
import type Holidays from "date-holidays";
import type OpenAI from "openai";
import type { LengthFinishReasonError } from "openai/core/error";
import type { zodResponseFormat } from "openai/helpers/zod";
import type Stripe from "stripe";

const load = createRequire(import.meta.url);

export const stripePackage = (): typeof Stripe => load("stripe");
export const holidaysPackage = (): typeof Holidays => load("date-holidays");

export interface OpenAiPackage {
  OpenAI: typeof OpenAI;
  LengthFinishReasonError: typeof LengthFinishReasonError;
  zodResponseFormat: typeof zodResponseFormat;
}

export function openAiPackage(): OpenAiPackage {
  return {
    OpenAI: load("openai"),
    LengthFinishReasonError: load("openai/core/error").LengthFinishReasonError,
    zodResponseFormat: load("openai/helpers/zod").zodResponseFormat,
  };
}
