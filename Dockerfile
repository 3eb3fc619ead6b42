# One image for all four services; compose picks the entry point with `command`.
# Build stage: full dependencies, compile TypeScript.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
COPY scripts ./scripts
COPY bench ./bench
COPY examples ./examples
RUN npm run build

# Runtime stage: production dependencies and the compiled output only. package.json and dist/ sit
# together in /app because package.json `imports` maps #contracts/#platform to ./dist/libs/...
FROM node:24-slim AS runtime
ENV NODE_ENV=production
# CI steps on the local executor run /bin/sh scripts that commonly call the API with curl.
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# identity writes a generated first-admin password here (compose mounts a volume on it).
RUN mkdir -p /var/lib/gantry && chown node:node /var/lib/gantry && chmod 700 /var/lib/gantry
USER node
EXPOSE 8080
CMD ["node", "dist/apps/gateway/src/main.js"]
