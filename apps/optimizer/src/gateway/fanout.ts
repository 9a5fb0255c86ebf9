/**
 * Sends preview frames to the sockets of a room on this node. A frame is encoded once (in the
 * worker) and the same Buffer goes to every socket. A socket whose connection is still busy
 * writing an earlier frame gets no new frame queued behind it: the newest frame is parked and
 * sent as soon as the connection is free, older parked frames are dropped. So a slow client
 * skips frames instead of building a backlog, and fast clients are not held back by it.
 */
import type { Server, Socket } from "socket.io";
import type { PreviewFrame } from "../rooms/live-room.ts";
import { metrics } from "../common/metrics.ts";

interface SocketPreviewState {
  parked: PreviewFrame | null;
  sent: number;
  dropped: number;
}

export interface FanoutStats {
  sent: number;
  dropped: number;
  /** sockets with a frame parked right now */
  parked: number;
  /**
   * The service's share of a frame's latency, per delivered frame (latest 1000): from its
   * encoding in the worker until it was handed to every free socket of the room (ms).
   */
  serviceLatencies: number[];
}

const LATENCY_SAMPLES = 1000;

/** Busy: the connection has not finished writing what it was given (engine.io internals, stable in v4). */
function isBusy(socket: Socket): boolean {
  const conn = socket.conn as unknown as { writeBuffer: unknown[]; transport: { writable: boolean } };
  return conn.writeBuffer.length > 0 || !conn.transport.writable;
}

export class PreviewFanout {
  private readonly states = new Map<string, SocketPreviewState>();
  private retryTimer: NodeJS.Timeout | null = null;
  private totals = { sent: 0, dropped: 0 };
  private readonly latencies: number[] = [];

  constructor(
    private readonly io: Server,
    private readonly roomKey: (roomId: string) => string,
    private readonly retryMs = 15,
  ) {}

  /**
   * Sends a frame to every socket of its room on this node: one broadcast (the packet is
   * encoded once for all) to the sockets that are free, the frame parked for the busy ones.
   * Volatile: never stored for connection-state recovery, never queued on a busy transport.
   */
  deliver(frame: PreviewFrame): void {
    const key = this.roomKey(frame.roomId);
    const ids = this.io.sockets.adapter.rooms.get(key);
    if (!ids || ids.size === 0) return;
    const busy: string[] = [];
    let free = 0;
    for (const id of ids) {
      const socket = this.io.sockets.sockets.get(id);
      if (!socket) continue;
      const state = this.stateOf(socket);
      if (isBusy(socket)) {
        if (state.parked) this.countDrop(state);
        state.parked = frame;
        busy.push(id);
        continue;
      }
      if (state.parked) {
        this.countDrop(state); // an older parked frame, superseded by this one
        state.parked = null;
      }
      state.sent += 1;
      free += 1;
    }
    if (busy.length > 0) this.scheduleRetry();
    if (free === 0) return;
    this.totals.sent += free;
    this.io.local.to(key).except(busy).volatile.emit("run:preview", frame);
    this.latencies.push(Date.now() - frame.encodedAt);
    metrics.previewFanout.observe((Date.now() - frame.encodedAt) / 1000);
    if (this.latencies.length > LATENCY_SAMPLES) this.latencies.shift();
  }

  private stateOf(socket: Socket): SocketPreviewState {
    let state = this.states.get(socket.id);
    if (!state) {
      state = { parked: null, sent: 0, dropped: 0 };
      this.states.set(socket.id, state);
      socket.once("disconnect", () => this.states.delete(socket.id));
    }
    return state;
  }

  /** Sends one frame to one socket (e.g. the latest frame to a late joiner). */
  deliverTo(socket: Socket, frame: PreviewFrame): void {
    const state = this.stateOf(socket);
    if (isBusy(socket)) {
      if (state.parked) this.countDrop(state);
      state.parked = frame;
      this.scheduleRetry();
      return;
    }
    if (state.parked) {
      // the parked frame is older than this one: it is skipped
      this.countDrop(state);
      state.parked = null;
    }
    this.send(socket, state, frame);
  }

  private send(socket: Socket, state: SocketPreviewState, frame: PreviewFrame): void {
    socket.emit("run:preview", frame);
    state.sent += 1;
    this.totals.sent += 1;
  }

  private countDrop(state: SocketPreviewState): void {
    metrics.previewDropped.inc();
    state.dropped += 1;
    this.totals.dropped += 1;
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      let stillParked = false;
      for (const [id, state] of this.states) {
        if (!state.parked) continue;
        const socket = this.io.sockets.sockets.get(id);
        if (!socket || !socket.connected) {
          this.states.delete(id);
          continue;
        }
        // the client left the room in the meantime: the frame is not for it any more
        if (!socket.rooms.has(this.roomKey(state.parked.roomId))) {
          state.parked = null;
          continue;
        }
        if (isBusy(socket)) {
          stillParked = true;
          continue;
        }
        const frame = state.parked;
        state.parked = null;
        this.send(socket, state, frame);
      }
      if (stillParked) this.scheduleRetry();
    }, this.retryMs);
    this.retryTimer.unref();
  }

  stats(): FanoutStats {
    let parked = 0;
    for (const state of this.states.values()) if (state.parked) parked += 1;
    return { ...this.totals, parked, serviceLatencies: [...this.latencies] };
  }

  close(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.states.clear();
  }
}
