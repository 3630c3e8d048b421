# syntax=docker/dockerfile:1
# The API image: TypeScript compiled ahead (npm run build → dist/), production dependencies only, a non-root user, and
# node itself as PID 1 so that SIGTERM reaches the server (npm would exit on it without waiting: no graceful stop).
#
#   docker build -t universal-data-connector .                                     # default target: runtime
#   docker build --target voice-offline -t universal-data-connector:voice-offline .  # + espeak-ng, pocketsphinx
#   docker build --build-arg NODE_IMAGE=node:24-bookworm-slim .                      # another Node (CI tests 20, 22, 24)
#
# One image serves every role: the server (CMD), `node dist/db/migrate-cli.js`, `node dist/seed-demo.js`,
# `node dist/db/import-cli.js <dir>`, `node dist/server/token-cli.js`. See docs/deploying.md.
# Node 22 (LTS): Node 20 reached its end of life on 2026-04-30, and our server spends about a quarter less CPU per
# request on 22 (bench/README.md, "Compiled queries").
ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: every dependency, type-check src/, bundle the entry points into dist/
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# patches/ (applied by npm's postinstall through patch-package) and the postinstall script come before npm ci.
COPY package.json package-lock.json ./
COPY patches ./patches
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- base: what runs (shared by both targets below)
FROM ${NODE_IMAGE} AS base
ENV NODE_ENV=production \
    PORT=4000 \
    HOST=0.0.0.0 \
    DATA_DIR=/app/.data/pglite
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
COPY scripts ./scripts
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# migrations/, data/ and examples/ (GraphiQL's tabs) sit beside dist/: the bundles find them as ../migrations, ../data, ../examples.
COPY migrations ./migrations
COPY data ./data
COPY examples ./examples
COPY --from=build /app/dist ./dist
# The only writable place: the embedded database (PGlite), used when no DATABASE_URL is given.
RUN mkdir -p /app/.data && chown node:node /app/.data
# The node user of the official image (uid 1000); the application's files stay root-owned and read-only to it.
USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--max-semi-space-size=64", "dist/main.js"]

# ---- voice-offline: the offline voice (VOICE_PROVIDER=local) with Debian's speech programs
FROM base AS voice-offline
USER root
RUN apt-get update \
  && apt-get install -y --no-install-recommends espeak-ng pocketsphinx pocketsphinx-en-us \
  && rm -rf /var/lib/apt/lists/*
USER node

# ---- runtime: the default target (last stage); voice through Groq (GROQ_API_KEY) or text-only local answers
FROM base AS runtime
LABEL org.opencontainers.image.title="universal-data-connector" \
      org.opencontainers.image.description="GraphQL data connector for customers, support tickets and metrics, with a voice pipeline"
