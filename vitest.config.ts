import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const file = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));
const src = (pkg: string) => file(`${pkg}/src/index.ts`);

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources, not a stale build.
    alias: [
      { find: '@switchboard/webhooks/web', replacement: file('webhooks/src/web.ts') },
      {
        find: /^@switchboard\/webhooks\/(node|express|fastify)$/,
        replacement: file('webhooks/src/adapters/$1.ts'),
      },
      { find: /^@switchboard\/webhooks$/, replacement: src('webhooks') },
      { find: /^@switchboard\/server$/, replacement: src('server') },
      { find: '@switchboard/server/protocol', replacement: file('server/src/sessions/protocol.ts') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: files run in parallel, but not more than the machine has.
    maxWorkers: 2,
    pool: 'forks',
  },
});
