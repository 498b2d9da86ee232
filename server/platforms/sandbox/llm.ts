// The sandbox's OpenAI-compatible model: POST /llm/v1/chat/completions with
// the Chat Completions request and answer shapes (choices[].message.content,
// finish_reason, usage; errors as {error:{message,type,code}}), so the
// content generator is tested over HTTP through the official client like the
// platforms. It "writes" deterministically from the JSON prompt's slots.
// Faulty answers on demand: POST /llm/_control/faults {kind, times}:
//   invalid_json   content that is not JSON
//   too_long       cut off at the token limit (finish_reason "length", JSON unfinished)
//   overlong_post  valid JSON whose posts break the platforms' length limits
//   timeout        the request is never answered
// The generic /_control/faults (endpoint "llm.chat.completions") and /latency work too.
import express, { type Router } from "express";
import { z } from "zod";
import { handle, Fail, bearer } from "./kit.ts";
import type { SandboxState } from "./state.ts";

const FAULT_KINDS = ["invalid_json", "too_long", "overlong_post", "timeout"] as const;
type FaultKind = (typeof FAULT_KINDS)[number];

interface LlmState {
  faults: Array<{ kind: FaultKind; remaining: number }>;
  /** The last 50 requests (model and messages), for tests that check what a prompt holds. */
  requests: Array<{ model: string; messages: unknown }>;
}
const states = new WeakMap<SandboxState, LlmState>();
function llmState(s: SandboxState): LlmState {
  let st = states.get(s);
  if (!st) states.set(s, (st = { faults: [], requests: [] }));
  return st;
}

const request = z.object({
  model: z.string().min(1),
  messages: z.array(z.object({ role: z.string(), content: z.string() })).min(1),
});
const prompt = z.object({
  brand: z.object({ name: z.string(), corePurpose: z.string().optional(), productsServices: z.string().optional() }),
  slots: z.array(
    z.object({ n: z.number(), platform: z.string(), strategicTheme: z.string(), localEvent: z.object({ name: z.string() }).nullable().optional(), maxCharacters: z.number().optional() }),
  ),
});

const openAiError = (status: number, message: string, type: string, code: string | null) => new Fail({ status, json: { error: { message, type, param: null, code } } });

function firstSentence(s: string | undefined): string {
  const t = (s ?? "").replace(/\s+/g, " ").trim();
  return (/^(.+?[.!?])(\s|$)/.exec(t)?.[1] ?? t).replace(/[.!?]+$/, "");
}

function write(p: z.infer<typeof prompt>, overlong: boolean): { posts: Array<{ n: number; content: string }> } {
  return {
    posts: p.slots.map((slot) => {
      const event = slot.localEvent ? ` Celebrating ${slot.localEvent.name} with you.` : "";
      const text = `${p.brand.name} · ${slot.strategicTheme}: ${firstSentence(slot.platform === "x" ? p.brand.productsServices : p.brand.corePurpose)}.${event} Come and see us soon!`;
      const max = slot.maxCharacters ?? 280;
      return { n: slot.n, content: overlong ? text.padEnd(Math.max(max, 3000) + 200, " and more") : [...text].slice(0, max).join("") };
    }),
  };
}

export function llmRoutes(s: SandboxState): Router {
  const r = express.Router();
  const st = llmState(s);

  r.post(
    "/llm/v1/chat/completions",
    handle(s, "llm.chat.completions", (req) => {
      if (!bearer(req)) throw openAiError(401, "You didn't provide an API key.", "invalid_request_error", "invalid_api_key");
      const body = request.safeParse(req.body);
      if (!body.success) throw openAiError(400, `Invalid request: ${body.error.issues[0]?.message}`, "invalid_request_error", null);
      st.requests.push({ model: body.data.model, messages: body.data.messages });
      if (st.requests.length > 50) st.requests.shift();
      const user = [...body.data.messages].reverse().find((m) => m.role === "user");
      let parsed: z.infer<typeof prompt>;
      try {
        parsed = prompt.parse(JSON.parse(user?.content ?? ""));
      } catch {
        throw openAiError(400, "The sandbox model only understands the content generator's JSON prompt", "invalid_request_error", null);
      }
      const fault = st.faults.find((f) => f.remaining > 0);
      if (fault) fault.remaining -= 1;
      const kind = fault?.kind;
      if (kind === "timeout") return new Promise(() => {}); // never answered; the client gives up
      const json = JSON.stringify(write(parsed, kind === "overlong_post"));
      const content = kind === "invalid_json" ? `Here are your posts: ${json.slice(0, 40)}` : kind === "too_long" ? json.slice(0, Math.floor(json.length / 2)) : json;
      const created = Math.floor(s.now() / 1000);
      return {
        json: {
          id: `chatcmpl-sandbox${created.toString(36)}${st.requests.length}`,
          object: "chat.completion",
          created,
          model: body.data.model,
          choices: [{ index: 0, message: { role: "assistant", content, refusal: null }, logprobs: null, finish_reason: kind === "too_long" ? "length" : "stop" }],
          usage: { prompt_tokens: Math.ceil((user?.content.length ?? 0) / 4), completion_tokens: Math.ceil(content.length / 4), total_tokens: 0 },
        },
      };
    }),
  );

  r.post("/llm/_control/faults", (req, res) => {
    const b = z.object({ kind: z.enum(FAULT_KINDS), times: z.number().int().min(1).default(1) }).safeParse(req.body ?? {});
    if (!b.success) return void res.status(400).json({ error: { code: "invalid_request", message: `kind: one of ${FAULT_KINDS.join(", ")}` } });
    st.faults.push({ kind: b.data.kind, remaining: b.data.times });
    res.status(201).json({ ok: true });
  });
  r.delete("/llm/_control/faults", (_req, res) => {
    st.faults = [];
    res.json({ ok: true });
  });
  r.get("/llm/_control/requests", (_req, res) => void res.json({ requests: st.requests }));
  return r;
}
