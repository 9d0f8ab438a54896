#!/usr/bin/env node
import { main } from './main.js';
import { printable } from './output.js';

main(process.argv).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `switchboard: ${printable(error instanceof Error ? error.message : String(error))}\n`,
    );
    process.exitCode = 1;
  },
);
