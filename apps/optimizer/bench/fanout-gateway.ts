/**
 * One gateway of the cluster fan-out bench (bench/fanout-cluster.ts) in its own process:
 * the service as `npm start` runs it (src/service.ts; ATELIER_ROLE=gateway: no engine work) plus an IPC channel on which the bench asks for this process's own figures: its
 * event-loop delay, its fan-out stats and its sockets' write backlog. Started by
 * spawnGateway (test/support-cluster.ts) with this file as the entry. It stops on SIGTERM, and
 * when the channel closes (the bench is gone), so no gateway outlives its bench.
 */
import { logLevelFromEnv } from "../src/config.ts";
import { createLogger } from "../src/common/log.ts";
import type { OptimizerServer } from "../src/gateway/server.ts";
import { startService } from "../src/service.ts";

/** bench → gateway */
export type GatewayRequest =
  /** start sampling the backlog and counting drops (before the runs start) */
  | { type: "measure" }
  /** restart the event-loop histogram (once every run goes, after the workers' start-up) */
  | { type: "reset-loop" }
  | { type: "report" };

/** gateway → bench: the answer to "report" */
export interface GatewayReport {
  type: "report";
  loop: ReturnType<OptimizerServer["debug"]["eventLoopDelay"]>;
  dropped: number;
  /** the largest write buffer among this gateway's sockets, every BACKLOG_SAMPLE_MS */
  backlog: number[];
}

const BACKLOG_SAMPLE_MS = 20;
const log = createLogger(logLevelFromEnv());
// until the server is up there is nothing to close; the channel can close that early too
let stop: (why: string) => void = () => process.exit(1);
process.on("disconnect", () => stop("disconnect"));

async function main(): Promise<void> {
  if (process.env.ATELIER_ROLE !== "gateway") throw new Error("bench/fanout-gateway.ts runs with ATELIER_ROLE=gateway");
  const service = await startService(log);
  const server = service.server;
  stop = service.stop;

  let droppedBefore = 0;
  const backlog: number[] = [];
  let sampler: NodeJS.Timeout | undefined;
  const sampleBacklog = () => {
    let largest = 0;
    for (const socket of server.io.sockets.sockets.values())
      largest = Math.max(largest, (socket.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length);
    backlog.push(largest);
  };
  process.on("message", (m: GatewayRequest) => {
    if (m.type === "measure") {
      droppedBefore = server.debug.fanoutStats().dropped;
      sampler = setInterval(sampleBacklog, BACKLOG_SAMPLE_MS);
      process.send!({ type: "measuring" });
    } else if (m.type === "reset-loop") {
      server.debug.resetEventLoopDelay();
      process.send!({ type: "loop-reset" });
    } else {
      clearInterval(sampler);
      const report: GatewayReport = {
        type: "report",
        loop: server.debug.eventLoopDelay(),
        dropped: server.debug.fanoutStats().dropped - droppedBefore,
        backlog,
      };
      process.send!(report);
    }
  });
}

main().catch((error) => {
  log.error("optimizer.start_failed", { error });
  process.exit(1);
});
