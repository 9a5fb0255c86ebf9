/**
 * A worker process's run sink: what its jobs show goes on the run bus (state, stats, previews)
 * and into the short-lived Redis keys late joiners read; the ended run's loss history is read
 * back from there to be stored with the run.
 */
import { toRunInfo, type LiveRun } from "../common/live-run.ts";
import type { Logger } from "../common/log.ts";
import type { RunBus } from "./run-bus.ts";
import type { RunRuntime, RunSink } from "../runs/core.ts";
import { remainingSeconds, roundEta } from "../runs/eta.ts";
import type { PreviewFrame } from "../rooms/live-room.ts";

/** a running run's state (iteration, ETA) is republished at most this often */
const STATE_EVERY_MS = 1_000;

export function busSink(bus: RunBus, runtime: RunRuntime, workerId: string, log: Logger): RunSink {
  const lastFrame = new Map<string, PreviewFrame>();
  const lastState = new Map<string, number>();
  const failed = (error: unknown) => log.warn("worker.publish_failed", { error });

  const publishState = (run: LiveRun, holder: string | null) => {
    lastState.set(run.id, Date.now());
    const info = toRunInfo(run);
    void Promise.all([
      bus.setInfo(info),
      bus.publish({ type: "state", roomId: run.roomId, run: info, workerId: holder }),
    ]).catch(failed);
  };

  return {
    started(run) {
      publishState(run, workerId);
    },
    stats(run, stats) {
      void Promise.all([bus.pushStats(stats), bus.publish({ type: "stats", roomId: run.roomId, stats })]).catch(failed);
      if (Date.now() - (lastState.get(run.id) ?? 0) >= STATE_EVERY_MS) {
        run.etaSeconds = roundEta(remainingSeconds(run, runtime.speed.current()));
        publishState(run, workerId);
      }
    },
    preview(_run, frame) {
      lastFrame.set(frame.runId, frame);
      const wire = { ...frame, data: frame.data.toString("base64") };
      void Promise.all([bus.setPreview(wire), bus.publish({ type: "preview", frame: wire })]).catch(failed);
    },
    async shown(run) {
      const history = await bus.history(run.id).catch(() => []);
      let preview = lastFrame.get(run.id) ?? null;
      if (!preview) {
        // resumed here before any new frame: the previous holder's last one
        const wire = await bus.preview(run.id).catch(() => null);
        preview = wire ? { ...wire, data: Buffer.from(wire.data, "base64") } : null;
      }
      return { history, preview };
    },
    ended(run, frame) {
      lastFrame.delete(run.id);
      lastState.delete(run.id);
      publishState(run, null);
      if (frame) {
        const wire = { ...frame, data: frame.data.toString("base64"), encodedAt: frame.encodedAt ?? Date.now() };
        void Promise.all([bus.setPreview(wire), bus.publish({ type: "preview", frame: wire })]).catch(failed);
      }
    },
  };
}
