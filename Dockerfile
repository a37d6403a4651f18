# syntax=docker/dockerfile:1.7
# One image per service, all from this file:
#
#   docker build --build-arg SERVICE=identity --build-arg PORT=3001 -t chat/identity .
#   docker build --target migrate -t chat/migrate .
#   docker build --target gateway -t chat/gateway .   (nginx with the web app)
#
# SERVICE is a folder of services/ (identity, rooms, messages, reactions,
# realtime) and PORT its default port (the PORT default of its config schema).
# The final stages hold the built packages and the production dependencies of
# that one service, and run as the unprivileged `node` user.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS base
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
WORKDIR /app

# Only the manifests: the `npm ci` layers below stay cached until a
# package.json or the lock file changes.
FROM base AS manifests
COPY . /src
RUN find /src -type f ! -name package.json ! -name package-lock.json -delete \
 && find /src -depth -type d -empty -delete

# Every dependency, for building.
FROM base AS deps
COPY --from=manifests /src/ ./
RUN --mount=type=cache,target=/root/.npm npm ci

FROM deps AS build
ARG SERVICE
COPY . .
# The service and the workspace packages it depends on (turbo follows the
# graph), and @chat/db for the migrate image. Then /out: package.json, dist/
# and assets/ of each workspace package, the layout the final stage needs.
RUN npx turbo run build --output-logs=errors-only --filter=@chat/db... ${SERVICE:+--filter=@chat/${SERVICE}...} \
 && mkdir -p /out \
 && for dir in packages/* ${SERVICE:+services/${SERVICE}}; do \
      [ -d "$dir/dist" ] || continue; \
      mkdir -p "/out/$dir" && cp -R "$dir/package.json" "$dir/dist" "/out/$dir/"; \
      [ ! -d "$dir/assets" ] || cp -R "$dir/assets" "/out/$dir/"; \
    done

# Production dependencies of one workspace only (the service, or @chat/db for
# migrate): its own and those of the workspace packages it uses, nothing of
# the others, no devDependencies.
FROM base AS prod-deps
ARG SERVICE
COPY --from=manifests /src/ ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --include-workspace-root=false --workspace "${SERVICE:+services/}${SERVICE:-packages/db}"

FROM ${NODE_IMAGE} AS runtime-base
ENV NODE_ENV=production HOST=0.0.0.0
WORKDIR /app

# The migrate one-shot: `node packages/db/dist/migrate-cli.js [up|status]`, reads DATABASE_URL.
FROM runtime-base AS migrate
COPY --from=prod-deps /app/ ./
COPY --from=build /out/packages/ ./packages/
USER node
CMD ["node", "packages/db/dist/migrate-cli.js", "up"]

# A service (the default target).
FROM runtime-base AS service
ARG SERVICE
ARG PORT
RUN test -n "$SERVICE" -a -n "$PORT" || { echo 'build with --build-arg SERVICE=<folder of services/> --build-arg PORT=<its port>' >&2; exit 1; }
COPY --from=prod-deps /app/ ./
COPY --from=build /out/ ./
ENV SERVICE=${SERVICE} PORT=${PORT}
# Relative paths (none are written: the root file system may be read-only) resolve in the service's folder.
WORKDIR /app/services/${SERVICE}
USER node
EXPOSE ${PORT}
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.PORT + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# services/<SERVICE>/dist/main.js; node is PID 1 and gets SIGTERM itself.
CMD ["node", "dist/main.js"]

# The web app (apps/web), built once for the gateway image.
FROM deps AS web-build
COPY . .
RUN npx turbo run build --output-logs=errors-only --filter=@chat/web

# The API gateway: nginx with the routes of deploy/nginx and the web app at /.
# The official image renders /etc/nginx/templates/*.template with envsubst at start.
# 1.28: upstream servers with `resolve` (compose re-resolves its replicas).
FROM nginx:1.28-alpine AS gateway
COPY deploy/nginx/nginx.conf.template /etc/nginx/templates/nginx.conf.template
COPY deploy/nginx/gateway.js /etc/nginx/gateway.js
COPY --from=web-build /app/apps/web/dist /srv/web
