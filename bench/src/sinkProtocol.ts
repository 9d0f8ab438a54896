/** Messages between the benchmark runner and a receiver process (sinkProcess.ts). */

export type SinkRequest =
  | { cmd: 'listen'; count?: number; reuse?: boolean }
  | { cmd: 'close' }
  | { cmd: 'reset' }
  | { cmd: 'record'; on: boolean; unique?: boolean }
  | { cmd: 'stats' }
  | { cmd: 'arrivals' }
  | { cmd: 'now' }
  | { cmd: 'exit' };

export interface SinkReply {
  ok: boolean;
  error?: string;
  ports?: number[];
  at?: number;
  count?: number;
  unique?: number;
  firstAt?: number;
  lastAt?: number;
  ids?: string[];
  times?: number[];
}
