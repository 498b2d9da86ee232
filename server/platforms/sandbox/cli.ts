// `npm run sandbox`: the platform sandbox on its own port (SANDBOX_PORT).
// Point the product at it with PLATFORM_MODE=sandbox PLATFORM_SANDBOX_URL=http://localhost:<port>.
import { ConfigError, loadConfig } from "../../config.ts";
import { startSandbox } from "./index.ts";

try {
  const config = loadConfig();
  const running = await startSandbox({
    appUrl: config.publicUrl,
    stripeWebhookSecret: config.billing.webhookSecret,
    port: config.platforms.sandbox.port,
    host: "0.0.0.0",
  });
  // The bound port, not the configured one: SANDBOX_PORT=0 takes any free port (tests read it from this line).
  console.log(`Platform sandbox on port ${new URL(running.url).port}; redirect URIs registered for ${config.publicUrl}/auth/<platform>/callback`);
  const stop = () => void running.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  void running;
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
