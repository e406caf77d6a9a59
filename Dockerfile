# syntax=docker/dockerfile:1
# Two images from one build stage (see __integrations__/README.md, "docker compose"):
#   app    the function app on the official Azure Functions Node image
#   agent  the integration test agent, pointed at the app by environment variables
# Not exercised on machines without a Docker engine (ours and CI run the embedded mode).
# Node 22, the major infra/main.bicep deploys (infra/__tests__/appSettings.test.ts keeps them equal).

FROM node:22-bookworm-slim AS build
WORKDIR /src
# The lock file covers the root and the __integrations__ workspace: both manifests come first so
# the dependency layer is rebuilt only when they change.
COPY package.json package-lock.json ./
COPY __integrations__/package.json __integrations__/
RUN npm ci --no-audit --no-fund
# Everything else (.dockerignore leaves out what is built or installed here): the build compiles
# whatever tsconfig.json includes, and the agent target needs __integrations__.
COPY . .
RUN npm run build

FROM node:22-bookworm-slim AS prod-deps
WORKDIR /src
COPY package.json package-lock.json ./
COPY __integrations__/package.json __integrations__/
RUN npm ci --omit=dev --no-audit --no-fund

FROM mcr.microsoft.com/azure-functions/node:4-node22 AS app
ENV AzureWebJobsScriptRoot=/home/site/wwwroot \
    AzureFunctionsJobHost__Logging__Console__IsEnabled=true \
    FUNCTIONS_WORKER_RUNTIME=node
WORKDIR /home/site/wwwroot
COPY --from=prod-deps /src/node_modules node_modules
COPY --from=build /src/dist dist
# package.json "main" (dist/src/functions/*.js) tells the Functions host where the app is.
COPY package.json host.json ./

FROM build AS agent
ENV INTEGRATION_MODE=external \
    RECEIVER_BIND_HOST=0.0.0.0
CMD ["npm", "run", "test:external", "--workspace", "__integrations__"]
