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
  console.log(`Platform sandbox on port ${config.platforms.sandbox.port}; redirect URIs registered for ${config.publicUrl}/auth/<platform>/callback`);
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
