# One image for the three processes; docker-compose.yml picks the command.
FROM node:20-bookworm-slim
WORKDIR /srv/algorythmos
COPY package.json package-lock.json ./
COPY packages/domain/package.json packages/domain/package.json
COPY packages/platform/package.json packages/platform/package.json
COPY prisma prisma
COPY prisma.config.ts ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx remix build
ENV NODE_ENV=production HOST=0.0.0.0
CMD ["npm", "run", "server"]
