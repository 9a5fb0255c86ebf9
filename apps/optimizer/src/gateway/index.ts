/**
 * gateway/: the Socket.IO side of the service — the server (server.ts, where the parts meet),
 * socket auth and the checks every event passes (socket-origin, socket-auth, socket-events, session-check),
 * the handlers (room, document, run), presence and membership, the internal HTTP endpoints,
 * the shared context the handlers are built from, and the preview fan-out to sockets.
 *
 * The folder's surface (see common/index.ts for why other files import the named files directly):
 */
export {
  createOptimizerServer,
  type AtelierServer,
  type OptimizerServer,
  type OptimizerServerOptions,
} from "./server.ts";
export type { ClusterLink } from "./context.ts";
