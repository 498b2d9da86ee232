// SMS: Twilio's REST API through fetch when TWILIO_* are set; in development
// the development outbox (DATA_DIR/outbox/sms.jsonl). Production with neither
// refuses to send (SmsUnavailableError → 503) rather than pretending.
import type { Config } from "../config.ts";
import type { Log } from "../log.ts";
import { Outbox } from "./outbox.ts";

export interface SmsMessage {
  to: string;
  body: string;
}

export interface SmsSender {
  send(message: SmsMessage): Promise<void>;
  readonly outbox: SmsMessage[];
}

export class SmsUnavailableError extends Error {}

export function createSmsSender(config: Config, log: Log, fetchImpl: typeof fetch = fetch): SmsSender {
  const outbox = new Outbox<SmsMessage>(config.mail.outboxDir, "sms");
  const twilio = config.sms.twilio;
  return {
    outbox: outbox.messages,
    async send(message) {
      if (twilio) {
        const url = `https://api.twilio.com/2010-04-01/Accounts/${encodeURIComponent(twilio.accountSid)}/Messages.json`;
        const res = await fetchImpl(url, {
          method: "POST",
          headers: {
            authorization: `Basic ${Buffer.from(`${twilio.accountSid}:${twilio.authToken}`).toString("base64")}`,
            "content-type": "application/x-www-form-urlencoded",
          },
          body: new URLSearchParams({ To: message.to, From: twilio.from, Body: message.body }),
          signal: AbortSignal.timeout(10_000),
        });
        if (!res.ok) throw new Error(`Twilio answered ${res.status}`);
      } else if (config.production) {
        throw new SmsUnavailableError("SMS is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM)");
      } else {
        outbox.write(message);
      }
      // The body may hold a code: only the recipient is logged.
      log.info({ to: message.to, via: twilio ? "twilio" : "outbox" }, "SMS sent");
    },
  };
}
