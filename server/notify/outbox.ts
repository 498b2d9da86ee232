// The development outbox: what would have been sent, written to
// DATA_DIR/outbox/<kind>.jsonl and kept in memory for tests to read.
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

export class Outbox<T extends object> {
  readonly messages: T[] = [];
  constructor(
    private readonly dir: string,
    private readonly kind: "email" | "sms",
  ) {}

  write(message: T): void {
    this.messages.push(message);
    mkdirSync(this.dir, { recursive: true });
    appendFileSync(join(this.dir, `${this.kind}.jsonl`), `${JSON.stringify({ at: new Date().toISOString(), ...message })}\n`);
  }
}
