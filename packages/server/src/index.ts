export { createApi } from './api/app.js';
export type { Logger, Runtime } from './api/context.js';
export * from './clock.js';
export {
  createDeliveryEngine,
  type DeliveryEngine,
  type EngineEvents,
  type EngineOptions,
} from './delivery/engine.js';
export * from './delivery/retrySchedule.js';
export * from './ids.js';
export type { DeliveryAttemptShape } from './objects/deliveryAttempt.js';
export { DEFAULT_API_VERSION } from './objects/event.js';
export * from './routing/eventTypes.js';
export * from './routing/routing.js';
export * from './server.js';
export * from './store/index.js';
