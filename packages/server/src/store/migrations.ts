import { readdirSync, readFileSync } from 'node:fs';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Numbered migrations (`001_init.sql`, …) in a folder, in order. */
export function loadMigrations(dir: URL): Migration[] {
  const migrations: Migration[] = [];
  for (const file of readdirSync(dir)) {
    const match = /^(\d+)_([\w-]+)\.sql$/.exec(file);
    if (!match) continue;
    const version = Number(match[1]);
    if (migrations.some((m) => m.version === version)) {
      throw new Error(`Two migrations numbered ${version} in ${dir.pathname}`);
    }
    migrations.push({ version, name: match[2]!, sql: readFileSync(new URL(file, dir), 'utf8') });
  }
  if (migrations.length === 0) throw new Error(`No migrations found in ${dir.pathname}`);
  return migrations.sort((a, b) => a.version - b.version);
}
