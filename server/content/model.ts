// The model writer: any OpenAI-compatible chat completions service (OpenAI,
// xAI, the sandbox's) through the official `openai` package, with a JSON
// schema answer (zod) that is validated before anything is used: every slot
// answered once, every text within its platform's rules. A timeout per call,
// a bounded number of calls, and on failure the caller falls back to the
// built-in writer. The prompt holds this user's brand purpose and the slots,
// never contact details, keys or anything of another user.
import { z } from "zod";
import type { Config } from "../config.ts";
import { openAiPackage } from "../lazy-packages.ts";
import type { Log } from "../log.ts";
import type { Brand } from "./builtin.ts";
import type { Slot } from "./slots.ts";

export type LlmConfig = NonNullable<Config["content"]["llm"]>;

const answerSchema = z.object({
  posts: z.array(z.object({ n: z.number().int(), content: z.string() })),
});

/** What a slot's text must pass, from the caller (the platform adapters' checkContent). */
export type CheckText = (slot: Slot, content: string) => string[];

export class ModelAnswerError extends Error {}

const SYSTEM = [
  "You write social media posts for a small business in Queensland, Australia.",
  "Write one post per slot, in Australian English, in the brand's voice, from the brand purpose given.",
  "Follow each slot's platform, strategic theme and phase; mention the local event when a slot has one.",
  "Respect maxCharacters strictly. No markdown. Include a call to action. Do not invent prices, awards or facts.",
  'Answer only with JSON: {"posts":[{"n":<slot n>,"content":"<post text>"}]}, one entry per slot.',
].join(" ");

const MAX_CHARACTERS: Record<string, number> = { x: 270, instagram: 2000, linkedin: 2500, facebook: 2000, youtube: 4500 };

export function promptFor(brand: Brand, slots: Slot[]): string {
  return JSON.stringify({
    brand: {
      name: brand.brandName,
      productsServices: brand.productsServices,
      corePurpose: brand.corePurpose,
      audience: brand.audience,
      jobToBeDone: brand.jobToBeDone,
      motivations: brand.motivations,
      painPoints: brand.painPoints,
      keyMessage: brand.goals.keyMessage,
      websiteUrl: brand.goals.websiteUrl,
      salesUrl: brand.goals.salesUrl,
    },
    slots: slots.map((s) => ({
      n: s.n,
      platform: s.platform,
      date: s.localDate,
      localTime: s.localTime,
      strategicTheme: s.theme.label,
      phase: s.theme.phase,
      localEvent: s.event ? { name: s.event.name, date: s.event.date } : null,
      maxCharacters: MAX_CHARACTERS[s.platform],
    })),
  });
}

/** Checks a parsed answer against the slots: each slot once, each text passing its platform's rules. */
export function validateAnswer(answer: z.infer<typeof answerSchema>, slots: Slot[], check: CheckText): Map<number, string> {
  const texts = new Map<number, string>();
  for (const p of answer.posts) {
    if (!slots[p.n] || texts.has(p.n)) throw new ModelAnswerError(`the answer names slot ${p.n} twice or out of range`);
    const problems = check(slots[p.n]!, p.content.trim());
    if (problems.length) throw new ModelAnswerError(`slot ${p.n} (${slots[p.n]!.platform}): ${problems.join("; ")}`);
    texts.set(p.n, p.content.trim());
  }
  if (texts.size !== slots.length) throw new ModelAnswerError(`the answer has ${texts.size} posts for ${slots.length} slots`);
  return texts;
}

function reason(err: unknown): string {
  const { OpenAI, LengthFinishReasonError } = openAiPackage();
  if (err instanceof ModelAnswerError) return `invalid answer: ${err.message}`;
  if (err instanceof OpenAI.APIConnectionTimeoutError) return "timed out";
  if (err instanceof LengthFinishReasonError) return "answer too long: cut off at the token limit";
  if (err instanceof OpenAI.APIError) return `model service answered ${err.status ?? "without a status"}`;
  if (err instanceof SyntaxError) return "invalid JSON in the answer";
  if (err instanceof z.ZodError) return "answer does not match the schema";
  return String((err as Error)?.message ?? err).slice(0, 200);
}

export interface ModelResult {
  ok: boolean;
  texts?: Map<number, string>;
  attempts: number;
  /** Why each failed attempt failed (safe to show: never a key or a prompt). */
  failures: string[];
}

export async function writeWithModel(llm: LlmConfig, log: Log, brand: Brand, slots: Slot[], check: CheckText): Promise<ModelResult> {
  // The SDK's own retries are off: one bounded loop here covers HTTP errors, timeouts and invalid answers alike.
  const { OpenAI, zodResponseFormat } = openAiPackage();
  const client = new OpenAI({ apiKey: llm.apiKey, baseURL: llm.baseUrl, timeout: llm.timeoutMs, maxRetries: 0 });
  const failures: string[] = [];
  for (let attempt = 1; attempt <= llm.maxAttempts; attempt++) {
    try {
      const completion = await client.chat.completions.parse({
        model: llm.model,
        messages: [
          { role: "system", content: SYSTEM },
          { role: "user", content: promptFor(brand, slots) },
        ],
        response_format: zodResponseFormat(answerSchema, "posts"),
      });
      const parsed = completion.choices[0]?.message.parsed;
      if (!parsed) throw new ModelAnswerError(completion.choices[0]?.message.refusal ? "the model refused" : "empty answer");
      return { ok: true, texts: validateAnswer(parsed, slots, check), attempts: attempt, failures };
    } catch (err) {
      failures.push(reason(err));
      log.warn({ attempt, reason: failures.at(-1), model: llm.model }, "Content model attempt failed");
    }
  }
  return { ok: false, attempts: llm.maxAttempts, failures };
}
