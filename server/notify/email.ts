// Email through nodemailer: SMTP when SMTP_URL is set, otherwise the
// development outbox (DATA_DIR/outbox/email.jsonl) and a log line.
import nodemailer, { type Transporter } from "nodemailer";
import type { Config } from "../config.ts";
import type { Log } from "../log.ts";
import { Outbox } from "./outbox.ts";

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(message: EmailMessage): Promise<void>;
  /** Messages written to the development outbox (empty when SMTP is used). */
  readonly outbox: EmailMessage[];
}

export function createMailer(config: Config, log: Log): Mailer {
  const outbox = new Outbox<EmailMessage>(config.mail.outboxDir, "email");
  const smtp: Transporter | undefined = config.mail.smtpUrl ? nodemailer.createTransport(config.mail.smtpUrl) : undefined;
  return {
    outbox: outbox.messages,
    async send(message) {
      if (smtp) {
        await smtp.sendMail({ from: config.mail.from, ...message });
      } else {
        outbox.write(message);
      }
      log.info({ to: message.to, subject: message.subject, via: smtp ? "smtp" : "outbox" }, "Email sent");
    },
  };
}
