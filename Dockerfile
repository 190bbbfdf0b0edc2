# One image for every process; docker-compose.yml and deploy/kubernetes pick the command (docs/deploy.md).
FROM node:20-bookworm-slim
WORKDIR /srv/algorythmos
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
# Dependencies first, so a source change does not reinstall them (postinstall generates the Prisma client).
COPY package.json package-lock.json prisma.config.ts ./
COPY packages/domain/package.json packages/domain/package.json
COPY packages/platform/package.json packages/platform/package.json
COPY prisma prisma
RUN npm ci
COPY . .
RUN npx remix build
ENV NODE_ENV=production HOST=0.0.0.0
# The app only reads its folder; it runs unprivileged.
USER node
EXPOSE 3000 3001 3002
# `node --import tsx` rather than `npm run`: the signal reaches the process itself, which drains (server: the
# requests in flight; worker: the running steps; collab: stores what it took) before it exits.
CMD ["node", "--import", "tsx", "server/main.ts"]
