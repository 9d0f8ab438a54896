#!/usr/bin/env node
// The `switchboard` command. This launcher is committed (not built) so npm links it at install time;
// the command itself is compiled to dist/ by `npm run build` (which `npm start` and `npm test` run).
import { existsSync } from 'node:fs';

const built = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(built)) {
  process.stderr.write('switchboard: not built yet. Run `npm run build` at the repository root first.\n');
  process.exit(1);
}
await import(built.href);
