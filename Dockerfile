# syntax=docker/dockerfile:1
#
# kube-balance-exporter: reads kube-proxy's `iptables-save -c -t nat` counters on every node.
#   docker build -t REGISTRY/kube-balance-exporter:0.1.0 .
# Deployed by deploy/ (a privileged-namespace DaemonSet); docs/deploy.md explains the security choices.
#
# Base: Node.js 26, the Active LTS line (LTS since 2026-10-28, supported until 2029-04-30; 24 "Krypton"
# moved to maintenance on 2026-10-20), on Debian 13 "trixie" slim: trixie is Debian stable and ships
# iptables 1.8.11 (bookworm has 1.8.9). All stages use the same Node major so `npm ci` resolves and
# builds exactly what runs. Pin the digest (node:26-trixie-slim@sha256:...) in release builds.
# test/deploy/dockerfile.test.ts keeps this consistent with package.json (engines, bin, version).

# ---- build: full dev toolchain, compiles src/ to dist/ ----------------------------------------------
FROM node:26-trixie-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: nothing we build needs an install script, and none should run with our sources.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- deps: production dependencies only -------------------------------------------------------------
FROM node:26-trixie-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- runtime ----------------------------------------------------------------------------------------
FROM node:26-trixie-slim AS runtime

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=https://github.com/kube-balance-exporter/kube-balance-exporter
LABEL org.opencontainers.image.title="kube-balance-exporter" \
      org.opencontainers.image.description="Prometheus exporter for how evenly kube-proxy (iptables mode) spreads new connections over each Service's endpoints" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="docker.io/library/node:26-trixie-slim"

# iptables: Debian's package ships both iptables-legacy-save and iptables-nft-save (and the ip6tables
# ones); the exporter picks the backend kube-proxy used (--iptables.backend=auto), never the
# update-alternatives default. It must be recent: iptables-nft-save decodes rules back from nftables
# bytecode, and a version older than the kube-proxy/iptables that wrote them decodes newer match
# encodings lossily or not at all (rules printed wrong or as unsupported), which would corrupt our
# view of the ladders. Trixie's 1.8.11 is at least as new as what current kube-proxy images ship.
# nftables, conntrack: read-only `nft -j list table ip kube-proxy` (kube-proxy's nftables mode) and
# `conntrack -L` (--conntrack.enabled, and new connections in nftables mode).
# tini: PID 1 that forwards SIGTERM to node and reaps zombies (iptables-save children killed on
# timeout); node itself is not written to be an init.
# npm/corepack/yarn are removed: nothing runs them at runtime and they carry most of the base image's
# scanner findings.
RUN apt-get update \
 && apt-get install -y --no-install-recommends iptables nftables conntrack tini \
 && rm -rf /var/lib/apt/lists/* \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
           /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*

WORKDIR /app
ENV NODE_ENV=production
# Memory (issue 7; docs/deploy.md "Sizing"). The same environment the memory benchmark runs its exporter
# child with (src/bench/image-env.ts IMAGE_NODE_ENV; test/deploy/dockerfile.test.ts keeps them equal).
# V8 heap: what node would pick under the default 1 GiB limit, fixed, so a larger limit does not let
# garbage grow with it; a parsed read of 20,000 services x 10 endpoints peaks at ~160 MiB of live heap.
# Larger rulesets need more: set NODE_OPTIONS in the DaemonSet (docs/deploy.md). glibc malloc: two
# arenas for libuv's threads, and buffers of 128 KiB or more mapped on their own and returned when freed.
# dist/cli.js also turns V8's allocation-site pretenuring off itself (src/v8-flags.ts): node refuses that
# flag here.
ENV NODE_OPTIONS="--max-old-space-size=512 --max-semi-space-size=4" \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=131072 \
    MALLOC_TRIM_THRESHOLD_=131072
# package.json is needed at runtime: its "type": "module" makes dist/*.js ES modules.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist

# Root, on purpose (numeric, so admission can check it without reading /etc/passwd). iptables-save must
# run as uid 0 in the host network namespace with CAP_NET_ADMIN (nfnetlink dumps for nft,
# getsockopt(IPT_SO_GET_*) for legacy) and CAP_NET_RAW (the legacy raw socket). Non-root plus added
# capabilities does not work: Kubernetes cannot set ambient capabilities, so when a non-root node
# process execs iptables-save the kernel recomputes its capabilities from the file and the child runs
# with none (xtables then fails with EPERM, "Permission denied (you must be root)"). The alternatives
# cost more than they save: file capabilities (setcap cap_net_admin,cap_net_raw+ep on the xtables
# binaries) are ignored under no_new_privs, so they need allowPrivilegeEscalation: true, and they make
# the binaries privileged for any process in the container rather than for the one exporter (weaker
# audit trail); ambient capabilities need a privileged wrapper to raise them first. The DaemonSet keeps
# root small: capabilities drop ALL + add NET_ADMIN/NET_RAW, read-only root filesystem, no privilege
# escalation, RuntimeDefault seccomp, no host paths.
USER 0

EXPOSE 10090

# Exec form, no shell: flags come from the pod's args, configuration from KUBE_BALANCE_* env.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/cli.js"]
