// Config names every wrong variable; the logger redacts secrets by path.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../server/config.ts";
import { createLog } from "../../server/log.ts";
import { TEST_SECRETS } from "../support/server.ts";

describe("config", () => {
  it("names every variable that is wrong", () => {
    assert.throws(
      () => loadConfig({ ...TEST_SECRETS, DATA_DIR: "/tmp", PORT: "x", CYCLE_NOTIFY_CRON: "every day", CYCLE_NOTIFY_TZ: "Mars/Olympus", PUBLIC_URL: "https://a.example/path" }),
      (err: Error) =>
        err instanceof ConfigError && ["PORT", "CYCLE_NOTIFY_CRON", "CYCLE_NOTIFY_TZ", "PUBLIC_URL"].every((v) => err.message.includes(v)),
    );
  });

  it("accepts the defaults", () => {
    const c = loadConfig({ ...TEST_SECRETS, DATA_DIR: "/tmp" });
    assert.equal(c.cycle.notifyTimezone, "Australia/Brisbane");
    assert.equal(c.port, 5000);
    assert.equal(c.platforms.mode, "sandbox");
  });
});

describe("log redaction", () => {
  it("never writes tokens, codes, passwords, cookies or authorization headers", () => {
    let out = "";
    const sink = new Writable({ write: (chunk, _e, cb) => ((out += chunk), cb()) });
    const log = createLog("info", sink);
    log.info(
      {
        accessToken: "AT-secret-1",
        connection: { refresh_token: "RT-secret-2", nested: { code: "123456" } },
        body: { password: "pw-secret-3" },
        req: { headers: { cookie: "aiq.sid=cookie-secret-4", authorization: "Bearer ops-secret-5" } },
        platform: "x",
      },
      "something happened",
    );
    for (const secret of ["AT-secret-1", "RT-secret-2", "123456", "pw-secret-3", "cookie-secret-4", "ops-secret-5"]) {
      assert.ok(!out.includes(secret), `${secret} leaked`);
    }
    assert.match(out, /"platform":"x"/);
    assert.match(out, /\[redacted\]/);
  });
});
