# AgencyIQ backend: one Node 20 process running the server bundled into
# dist/server/index.js (scripts/build.mjs, esbuild), built once in the image.
# docker compose up (compose.yaml) runs it with PostgreSQL and a mail catcher.

# --- dependencies: production packages only, from the lockfile ------------------
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# allowScripts in package.json approves esbuild's install script (the bundler).
RUN npm ci --omit=dev --no-fund --no-audit && npm cache clean --force

# --- runtime ----------------------------------------------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=5000 \
    DATA_DIR=/app/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY shared ./shared
COPY server ./server
COPY database ./database
COPY scripts ./scripts
# The bundle, built as root before the switch to the unprivileged user (who cannot write /app).
RUN node scripts/build.mjs
# The image's own non-root user; it owns only DATA_DIR (outbox when allowed).
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 5000
# Ready = the database answers and every migration is applied (GET /readyz).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 5000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself as PID 1 (not npm), so SIGTERM reaches the server's graceful stop.
CMD ["node", "dist/server/index.js"]
